"""order (8080): checkout, Toss confirmation with a guarded state machine and recovery,
order read APIs. Built in issue 4."""
