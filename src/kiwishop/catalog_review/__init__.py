"""catalog-review (8085): reviews with exact per-product counts and star sums. Built in issue 6."""
