"""Settings → Accounts: broker accounts, one active; secrets to the keyring."""
