from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from kiwishop.toss_emulator.errors import TossError, TossFailure
from kiwishop.toss_emulator.filestore import FilePaymentBook, from_us, to_us
from kiwishop.toss_emulator.statefile import _SCHEMA, APPLICATION_ID, SCHEMA_VERSION, StateFile, StateFileError
from tests.unit.toss_emulator.test_codec import canceled_twice


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "deep" / "folder" / "emulator.sqlite3"


@pytest.fixture
def file(path: Path) -> Iterator[StateFile]:
    opened = StateFile.open(path)
    yield opened
    opened.close()


def test_a_new_file_is_created_with_its_folders_in_wal_mode(file: StateFile, path: Path) -> None:
    assert path.is_file()
    assert file.count_payments() == file.count_responses() == 0
    assert file.counters() == {}


def test_what_was_written_is_read_back_after_reopening(file: StateFile, path: Path) -> None:
    payment = canceled_twice()
    FilePaymentBook(file).put(payment)
    file.put_response(("key", "sk", "/v1/payments/confirm", "POST"), 42, 200, b'{"status":"DONE"}')
    file.write_counters({"approved": 3, "declined": 0})
    file.close()
    reopened = StateFile.open(path)
    try:
        assert FilePaymentBook(reopened).for_order(payment.order_id) == payment
        assert reopened.response(("key", "sk", "/v1/payments/confirm", "POST")) == (42, 200, b'{"status":"DONE"}')
        assert reopened.counters() == {"approved": 3}
    finally:
        reopened.close()


def test_a_new_payment_of_the_same_order_id_replaces_the_earlier_one(file: StateFile) -> None:
    file.add_payment("tgen_1", "order-0001", "{}")
    file.add_payment("tgen_2", "order-0001", "{}")
    assert (file.payment("tgen_1"), file.payment("tgen_2"), file.count_payments()) == (None, "{}", 1)


def add_then_answer_an_error(file: StateFile) -> None:
    with file.transaction():
        file.add_payment("tgen_1", "order-0001", "{}")
        raise TossFailure(TossError.REJECT_CARD_PAYMENT)


def add_the_same_payment_key_twice(file: StateFile) -> None:
    with file.transaction():
        file.add_payment("tgen_1", "order-0001", "{}")
        with file.transaction():
            file.add_payment("tgen_1", "order-0002", "{}")


def test_a_block_that_answers_a_toss_error_keeps_its_writes(file: StateFile) -> None:
    with pytest.raises(TossFailure):
        add_then_answer_an_error(file)
    assert file.payment("tgen_1") == "{}"


def test_a_failed_write_rolls_the_whole_transaction_back(file: StateFile) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        add_the_same_payment_key_twice(file)
    assert file.count_payments() == 0
    file.add_payment("tgen_1", "order-0001", "{}")  # and the file takes writes again
    assert file.count_payments() == 1


def test_expired_responses_are_purged_up_to_now(file: StateFile) -> None:
    file.put_response(("old", "sk", "/p", "POST"), 100, 200, b"{}")
    file.put_response(("new", "sk", "/p", "POST"), 101, 200, b"{}")
    file.purge_responses(100)
    assert file.response(("old", "sk", "/p", "POST")) is None
    assert file.count_responses() == 1


def test_expiry_times_convert_to_microseconds_and_back_exactly() -> None:
    moment = dt.datetime(2025, 1, 25, 11, 29, 30, 999999, tzinfo=dt.UTC)
    assert from_us(to_us(moment)) == moment
    assert to_us(moment + dt.timedelta(microseconds=1)) == to_us(moment) + 1


def test_a_file_of_schema_version_1_gets_the_webhook_table_and_keeps_its_payments(path: Path) -> None:
    path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(path)) as db:  # what an emulator from before the webhooks wrote
        for statement in _SCHEMA:
            db.execute(statement)
        db.execute("INSERT INTO payments VALUES ('tgen_1', 'order-0001', '{}')")
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("PRAGMA user_version = 1")
        db.commit()
    file = StateFile.open(path)
    try:
        assert (file.payment("tgen_1"), file.count_webhooks()) == ("{}", 0)
        assert file.add_webhook("tgen_1", b"{}", 5) == 1
    finally:
        file.close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2


def test_a_file_of_a_newer_schema_is_refused(path: Path) -> None:
    StateFile.open(path).close()
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 3")
        db.commit()
    with pytest.raises(StateFileError, match="schema version 3"):
        StateFile.open(path)
