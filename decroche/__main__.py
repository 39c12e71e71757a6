from decroche.cli import main

main()
