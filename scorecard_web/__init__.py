"""Flask plumbing both web apps share, the server and the standalone webhook service (which
must not import the server): the headers on every response."""
