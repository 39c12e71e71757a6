from decroche.cli import run

# Guarded: importing this module (a tool, a test) must not run the command.
if __name__ == "__main__":
    run()
