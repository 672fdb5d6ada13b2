"""catalog-like (8086): likes with exact per-product counts. Built in issue 6."""
