"""Test helpers shared by every test folder: fakes of the ports, payload builders, tokens, the fake world."""
