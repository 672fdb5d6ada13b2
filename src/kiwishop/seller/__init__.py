"""seller (8083): seller registration saga that creates the seller's wallet. Built in issue 5."""
