// local placeholder (not committed): the real target is being written in main
