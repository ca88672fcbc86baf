"""Small user systems the runner's tests call for real, as a user's repository would hold them."""
