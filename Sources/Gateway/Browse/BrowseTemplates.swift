import Mustache

/// The browse page's templates and stylesheet, kept in the binary (`tessera` is copied
/// around; a resource bundle would have to travel with it). `{{x}}` escapes HTML
/// (`<>&"'`); every value, URLs included, goes through it. No script, no inline style:
/// the page's CSP allows neither (`PageSecurity.browse`).
enum BrowseTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in [("head", head), ("foot", foot), ("index", index), ("dataset", dataset)] {
            // The templates are constants of this file: a parse error is a bug caught by
            // the first test that loads a page (the page would be empty).
            if let template = try? MustacheTemplate(string: text) { library.register(template, named: name) }
        }
        return library
    }()

    static let head = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} – Tessera</title>
    <link rel="stylesheet" href="/browse/style.css">
    </head>
    <body>
    <header><a class="home" href="/">Tessera</a>
    <form class="search" method="get" action="/" role="search">
    <input type="search" name="q" id="q" value="{{q}}" placeholder="{{searchHint}}" aria-label="Search images">
    <button type="submit" id="search-button">Search</button>
    </form>
    {{#docs}}<a class="docs" href="/docs/">API</a>{{/docs}}
    </header>
    <main>

    """

    static let foot = """
    </main>
    </body>
    </html>

    """

    static let index = """
    {{> head}}
    {{#error}}<p class="error" id="search-error">{{error}}</p>{{/error}}
    <section class="roots"><h2>Roots</h2><ul>
    {{#roots}}<li class="root">{{name}} <span class="count">{{count}} image(s)</span>{{#stopped}} <span class="note">listing stopped: {{stopped}}</span>{{/stopped}}</li>
    {{/roots}}</ul></section>
    <section><h2>{{#q}}Images matching “{{q}}”{{/q}}{{^q}}Images{{/q}} <span class="count" id="image-count">{{imageCount}}</span></h2>
    <ul class="grid">
    {{#images}}<li class="card">
    <a class="open" href="{{page}}"><img src="{{thumbnail}}" alt="thumbnail of {{name}}" width="128" height="128" loading="lazy">
    <span class="name">{{name}}</span></a>
    <span class="where">{{root}}/{{path}}</span>
    <dl>{{#axes}}<dt>axes</dt><dd>{{axes}}</dd>{{/axes}}{{#shape}}<dt>shape</dt><dd class="shape">{{shape}}</dd>{{/shape}}{{#dtype}}<dt>type</dt><dd>{{dtype}}</dd>{{/dtype}}<dt>levels</dt><dd>{{levels}}</dd>{{#channels}}<dt>channels</dt><dd>{{channels}}</dd>{{/channels}}<dt>NGFF</dt><dd>{{version}}</dd></dl>
    {{#problem}}<p class="note">{{problem}}</p>{{/problem}}
    </li>
    {{/images}}</ul>
    {{^images}}<p class="empty">No images.</p>{{/images}}
    {{#pages}}<nav class="pages">{{#previous}}<a id="previous-page" href="{{previous}}">previous</a> {{/previous}}page {{number}} of {{count}}{{#next}} <a id="next-page" href="{{next}}">next</a>{{/next}}</nav>{{/pages}}
    </section>
    {{> foot}}
    """

    static let dataset = """
    {{> head}}
    <h1 id="dataset-name">{{name}}</h1>
    <p class="where">{{root}}/{{path}}</p>
    <img class="quicklook" src="{{quicklook}}" alt="quicklook of {{name}}">
    <table class="metadata" id="metadata">
    {{#rows}}<tr><th>{{key}}</th><td>{{value}}</td></tr>
    {{/rows}}</table>
    <section class="open-with"><h2>Open</h2>
    <ul>
    {{#neuroglancer}}<li><a class="button" id="open-neuroglancer" href="{{neuroglancer}}">Open in neuroglancer</a> (served here)</li>{{/neuroglancer}}
    {{#napari}}<li>napari (paste in a shell): <code id="napari-command">{{napari}}</code><br>or in Python: <code>{{napariPython}}</code></li>{{/napari}}
    {{#vizarr}}<li><a class="button" id="open-vizarr" href="{{vizarr}}" rel="noreferrer">Open in vizarr</a> (hosted elsewhere: needs internet access)</li>{{/vizarr}}
    {{^base}}<li class="note">Viewer links need the page's address: the request had no usable Host header.</li>{{/base}}
    </ul></section>
    <section class="render"><h2>Pictures</h2><ul>
    {{#renders}}<li><a href="{{href}}">{{label}}</a></li>
    {{/renders}}</ul></section>
    {{#attributes}}<section><h2>Metadata document</h2><pre class="attributes">{{attributes}}</pre></section>{{/attributes}}
    {{> foot}}
    """

    static let style = """
    body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
    header { display: flex; gap: 1em; align-items: center; padding: 0.6em 1em; background: #223; color: #fff; }
    header a { color: #fff; text-decoration: none; font-weight: bold; }
    form.search { flex: 1; display: flex; gap: 0.4em; }
    form.search input { flex: 1; max-width: 30em; padding: 0.3em; }
    main { padding: 1em; }
    ul.grid { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(14em, 1fr)); gap: 1em; }
    .card { background: #fff; border: 1px solid #ddd; border-radius: 4px; padding: 0.6em; overflow-wrap: anywhere; }
    .card img { display: block; background: #000; image-rendering: pixelated; }
    .card .name { display: block; font-weight: bold; margin-top: 0.3em; }
    .where { color: #666; font-size: 0.85em; }
    dl { display: grid; grid-template-columns: auto 1fr; gap: 0 0.6em; font-size: 0.85em; margin: 0.4em 0 0; }
    dt { color: #666; }
    dd { margin: 0; }
    .note { color: #955; font-size: 0.85em; }
    .error { color: #b00; }
    .count { color: #666; font-size: 0.8em; font-weight: normal; }
    table.metadata { border-collapse: collapse; margin: 1em 0; }
    table.metadata th, table.metadata td { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
    a.button { display: inline-block; padding: 0.3em 0.8em; background: #335; color: #fff; border-radius: 3px; text-decoration: none; }
    .open-with li { margin: 0.5em 0; }
    img.quicklook { max-width: 100%; background: #000; }
    pre.attributes { background: #fff; border: 1px solid #ddd; padding: 0.6em; overflow: auto; max-height: 30em; }
    code { background: #eee; padding: 0.1em 0.3em; overflow-wrap: anywhere; }

    """
}
