"""kiwi-shop: a payment-centred microservice shop."""
