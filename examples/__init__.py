"""The example app: the workflows of the Polos workflow docs, on Stepline.

``App.from_modules(["examples"])`` collects every workflow defined below.
"""
