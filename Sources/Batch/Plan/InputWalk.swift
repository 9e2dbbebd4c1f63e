import Foundation
import ImageSources
import Storage

/// The image files under a folder, at any depth: names that look like inputs
/// (`SourceOpener.looksLikeInput`: an image extension, not hidden), hidden folders
/// skipped, linked folders never followed (a link could lead out of the tree or round in
/// a loop); links to files are kept. Sorted, so a plan does not depend on the order the
/// file system lists entries in. A folder whose files are all DICOM (a series, or a
/// whole-slide study) is one input, as `tessera convert` takes it, and is not descended.
enum InputWalk {
    static func files(under folder: String) -> [String] {
        var out = [String]()
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        walk(fd, folder: folder, into: &out)
        return out.sorted()
    }

    /// Takes ownership of `fd`.
    private static func walk(_ fd: Int32, folder: String, into out: inout [String]) {
        if DICOMOpener.isDICOMFolder(folder) {
            close(fd)
            out.append(folder)
            return
        }
        var subfolders = [String]()
        readFolder(fd) { parent, name, entry in
            if entry == .folder {
                if !name.hasPrefix(".") { subfolders.append(name) }
            } else if SourceOpener.looksLikeInput(name), isFile(parent, name, entry) {
                out.append((folder as NSString).appendingPathComponent(name))
            }
        }
        for name in subfolders {
            let path = (folder as NSString).appendingPathComponent(name)
            let sub = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if sub >= 0 { walk(sub, folder: path, into: &out) }
        }
    }

    /// A regular file, or a link to one.
    static func isFile(_ parent: Int32, _ name: String, _ entry: FolderEntry) -> Bool {
        switch entry {
        case .file: return true
        case .symbolicLink:
            var st = stat()
            return fstatat(parent, name, &st, 0) == 0 && st.st_mode & S_IFMT == S_IFREG
        default: return false
        }
    }
}
