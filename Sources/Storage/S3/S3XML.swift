import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An S3 XML answer (a listing page, an upload listing), read whole and checked: a body
/// that is not well-formed XML — a page cut off mid-document, with a Content-Length that
/// matches what was sent, looks complete to the transport — or whose root element is not
/// the one expected is an error, never a shorter answer.
struct S3XMLDocument {
    /// One element with its text, and the names of the elements that enclose it
    /// (`["ListBucketResult", "Contents", "Key"]`).
    struct Element {
        var path: [String]
        var text: String
        var name: String { path.last ?? "" }
        /// The name of the enclosing element ("" at the root).
        var parent: String { path.count > 1 ? path[path.count - 2] : "" }
    }

    /// Every element, in the order their end tags appear (children before their parent).
    var elements: [Element]

    /// Parses `body`, which must be one `<root>` document.
    static func parse(_ body: [UInt8], root: String) throws(S3XMLError) -> S3XMLDocument {
        let collector = Collector()
        let parser = XMLParser(data: Data(body))
        parser.delegate = collector
        parser.shouldResolveExternalEntities = false
        guard parser.parse(), collector.open.isEmpty, let last = collector.elements.last else {
            let detail = parser.parserError.map { " (\(($0 as NSError).localizedDescription), line \(parser.lineNumber))" } ?? ""
            throw S3XMLError(reason: "the \(root) answer of \(body.count) bytes is not complete, well-formed XML\(detail)")
        }
        guard last.path == [root] else {
            throw S3XMLError(reason: "expected a \(root) answer, got <\(collector.elements.first?.path.first ?? "")>")
        }
        return S3XMLDocument(elements: collector.elements)
    }

    /// The children of each `record` element (`Contents`, `Upload`), name → text, in
    /// document order; a child the record lacks is absent from its dictionary.
    func records(_ record: String) -> [[String: String]] {
        var out = [[String: String]]()
        var current = [String: String]()
        for e in elements {
            if e.parent == record {
                current[e.name] = e.text
            } else if e.name == record {
                out.append(current)
                current = [:]
            }
        }
        return out
    }

    /// The text of the root's child `name` (`IsTruncated`), if there is one.
    func field(_ name: String) -> String? {
        elements.last { $0.path.count == 2 && $0.name == name }?.text
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var elements = [Element]()
        /// The elements now open, outermost first, each with the text gathered so far.
        var open = [(name: String, text: String)]()

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            open.append((name, ""))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if !open.isEmpty { open[open.count - 1].text += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            let path = open.map(\.name)
            guard let element = open.popLast() else { return }
            elements.append(Element(path: path, text: element.text))
        }
    }
}

/// Why an S3 XML answer could not be used.
struct S3XMLError: Error {
    var reason: String
}
