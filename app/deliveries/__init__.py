"""The deliveries log: reading, replaying and pruning what reached /callbacks."""
