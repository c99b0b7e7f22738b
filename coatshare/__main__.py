from coatshare.cli import main

main()
