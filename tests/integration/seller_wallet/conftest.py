from tests.integration.seller_wallet.fixtures import publisher, seller_db, seller_schema, wallet_db, wallet_schema

__all__ = ["publisher", "seller_db", "seller_schema", "wallet_db", "wallet_schema"]
