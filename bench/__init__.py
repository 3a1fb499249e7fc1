"""The callback-intake benchmark: fishhook against two reference receivers (`make bench`)."""
