/// Tessera's version, in one place: `tessera --version` prints it, and every output
/// records it (the `tessera` attributes of a converted image, the output mark of
/// `convert` and `copy`). Raise it with each release.
public let tesseraVersion = "0.2.0"
