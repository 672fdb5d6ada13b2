"""Toss Payments emulator (8090): the confirm/lookup/cancel API and the payment window. Built in issue 4."""
