"""The leads app's use cases (every state change), one module per part."""
