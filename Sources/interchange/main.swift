import InterchangeCLI

await InterchangeCommand.runMain()
