from reconciler.cli.app import main

main()
