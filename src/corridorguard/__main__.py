from corridorguard.cli import main

main()
