"""catalog (8081): products by id list, one product, product registration."""
