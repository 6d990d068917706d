"""OAuth connections to GitLab and Bitbucket: authorization, encrypted tokens, Git credentials."""
