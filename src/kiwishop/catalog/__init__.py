"""catalog (8081): products by id list, one product, product registration — for the sellers seller's events
say are registered and live (a consumer of kiwi-shop-seller keeps catalog's own copy)."""
