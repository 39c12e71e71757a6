from decroche.cli import main

# Guarded: worker processes (what-if replays) are spawned and import this module again.
if __name__ == "__main__":
    main()
