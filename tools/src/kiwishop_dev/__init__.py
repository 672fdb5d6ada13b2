"""kiwi-shop's developer tools, a distribution of their own (``kiwishop-dev``, never in the production image):
the local stack (``devstack``), the benchmarks and fault drills (``bench``), and the ``kiwishop`` sub-commands
that run them (``commands``). They may import the product; the product never imports them."""
