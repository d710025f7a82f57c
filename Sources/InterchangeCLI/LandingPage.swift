import Hummingbird
import ServiceRuntime

/// The page at `/` (or `/interchange` when a reference system owns `/`): what is running and where.
enum LandingPage {
    static func html(components: [any Component]) -> String {
        let rows = components.map { "<li><strong>\(escape($0.name))</strong> — \(escape($0.summary))</li>" }.joined(separator: "\n")
        let list = components.isEmpty ? "<p>No components are running yet.</p>" : "<ul>\n\(rows)\n</ul>"
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Interchange</title>
            <style>
              body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; }
              h1 { margin-bottom: 0.2rem; } code { background: #f0f2f4; padding: 0 0.25rem; border-radius: 3px; }
              a { color: #0b57d0; }
            </style>
            </head>
            <body>
            <main>
            <h1>Interchange</h1>
            <p>A toolkit for API integration and system interoperability, and the reference systems built from it.</p>
            <h2>Running here</h2>
            \(list)
            <h2>Operations</h2>
            <ul>
            <li><a href="/health"><code>/health</code></a> — component health (JSON)</li>
            <li><a href="/metrics"><code>/metrics</code></a> — Prometheus metrics</li>
            </ul>
            </main>
            </body>
            </html>
            """
    }

    static func response(_ html: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html))
        )
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
