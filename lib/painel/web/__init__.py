"""``painel serve``: standalone Voilà behind painel's login, roles, grants and kernel ownership."""
