"""order-query (8087): the CQRS read model of orders in Redis. Built in issue 7."""
