/// The catalogue's schema, one versioned list per SQL dialect. Ids are shared strings, applied
/// in order and recorded (SQLite: GRDB's `grdb_migrations`; PostgreSQL: `tessera_migrations`,
/// under an advisory lock so two gateways starting together migrate once). A migration is
/// never edited once released: add the next one. A unit test holds both lists to the same ids.
public struct CatalogMigration: Sendable {
    public var id: String
    public var statements: [String]
}

public enum SQLDialect: Sendable, Equatable { case sqlite, postgres }

public enum CatalogMigrations {
    public static func all(_ dialect: SQLDialect) -> [CatalogMigration] {
        switch dialect {
        case .sqlite: [CatalogMigration(id: "1-initial", statements: sqliteInitial),
                       CatalogMigration(id: "2-ingest", statements: ingest(.sqlite)),
                       CatalogMigration(id: "3-uploads", statements: uploads(.sqlite)),
                       CatalogMigration(id: "4-folded-text", statements: foldedText(.sqlite)),
                       CatalogMigration(id: "5-fts-trigram", statements: trigramText(.sqlite)),
                       CatalogMigration(id: "6-fts-prefix", statements: freeTextPrefix(.sqlite))]
        case .postgres: [CatalogMigration(id: "1-initial", statements: postgresInitial),
                         CatalogMigration(id: "2-ingest", statements: ingest(.postgres)),
                         CatalogMigration(id: "3-uploads", statements: uploads(.postgres)),
                         CatalogMigration(id: "4-folded-text", statements: foldedText(.postgres)),
                         CatalogMigration(id: "5-fts-trigram", statements: trigramText(.postgres)),
                         CatalogMigration(id: "6-fts-prefix", statements: freeTextPrefix(.postgres))]
        }
    }

    // Tables (both dialects, same columns):
    //   dataset        one row per catalogued NGFF location; `uid` is the public id.
    //   dataset_group  the access groups of a dataset.
    //   meta           one typed row per source key/value (MetaRow): vtype 0 string,
    //                  1 number, 2 date (num = unix s), 3 bool; indexes on (key, num) and
    //                  (key, str) make range, date, select and text elements index lookups.
    //   dataset_doc    the harvested document as served (JSON text).
    //   dataset_text   the free-text body (FreeText.body); SQLite indexes it with an
    //                  external-content FTS5 table (3.40 has no contentless delete),
    //                  PostgreSQL with a generated tsvector.
    //   catalog_state  counters: `access_version`, bumped by every change of access or status.

    static let sqliteInitial = [
        """
        CREATE TABLE dataset(
          id INTEGER PRIMARY KEY,
          uid TEXT NOT NULL UNIQUE,
          name TEXT NOT NULL,
          root TEXT,
          location TEXT NOT NULL UNIQUE,
          source_path TEXT, source_part TEXT, format TEXT,
          source_bytes INTEGER, stored_bytes INTEGER, checksum TEXT,
          file_mtime REAL, obs_time REAL,
          dimensions TEXT,
          owner_group TEXT,
          is_public INTEGER NOT NULL DEFAULT 0,
          uploader TEXT,
          status TEXT NOT NULL,
          error TEXT,
          created REAL NOT NULL,
          updated REAL NOT NULL)
        """,
        "CREATE INDEX dataset_name ON dataset(name, id)",
        "CREATE INDEX dataset_obs ON dataset(obs_time, id)",
        """
        CREATE TABLE dataset_group(
          dataset_id INTEGER NOT NULL REFERENCES dataset(id) ON DELETE CASCADE,
          grp TEXT NOT NULL,
          PRIMARY KEY(dataset_id, grp)) WITHOUT ROWID
        """,
        "CREATE INDEX dataset_group_grp ON dataset_group(grp, dataset_id)",
        """
        CREATE TABLE meta(
          dataset_id INTEGER NOT NULL REFERENCES dataset(id) ON DELETE CASCADE,
          seq INTEGER NOT NULL,
          scope TEXT NOT NULL,
          key TEXT NOT NULL,
          idx INTEGER NOT NULL,
          vtype INTEGER NOT NULL,
          num REAL,
          str TEXT NOT NULL,
          PRIMARY KEY(dataset_id, seq)) WITHOUT ROWID
        """,
        "CREATE INDEX meta_key_num ON meta(key, num, dataset_id)",
        "CREATE INDEX meta_key_str ON meta(key, str, dataset_id)",
        """
        CREATE TABLE dataset_doc(
          dataset_id INTEGER PRIMARY KEY REFERENCES dataset(id) ON DELETE CASCADE,
          json TEXT NOT NULL)
        """,
        """
        CREATE TABLE dataset_text(
          dataset_id INTEGER PRIMARY KEY REFERENCES dataset(id) ON DELETE CASCADE,
          body TEXT NOT NULL)
        """,
        """
        CREATE VIRTUAL TABLE dataset_fts USING fts5(
          body, content='dataset_text', content_rowid='dataset_id',
          tokenize='unicode61 remove_diacritics 0')
        """,
        """
        CREATE TRIGGER dataset_text_ai AFTER INSERT ON dataset_text BEGIN
          INSERT INTO dataset_fts(rowid, body) VALUES (new.dataset_id, new.body);
        END
        """,
        """
        CREATE TRIGGER dataset_text_ad AFTER DELETE ON dataset_text BEGIN
          INSERT INTO dataset_fts(dataset_fts, rowid, body) VALUES ('delete', old.dataset_id, old.body);
        END
        """,
        """
        CREATE TRIGGER dataset_text_au AFTER UPDATE ON dataset_text BEGIN
          INSERT INTO dataset_fts(dataset_fts, rowid, body) VALUES ('delete', old.dataset_id, old.body);
          INSERT INTO dataset_fts(rowid, body) VALUES (new.dataset_id, new.body);
        END
        """,
        "CREATE TABLE catalog_state(key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT INTO catalog_state(key, value) VALUES ('access_version', 0)",
    ]

    static let postgresInitial = [
        """
        CREATE TABLE dataset(
          id BIGSERIAL PRIMARY KEY,
          uid TEXT NOT NULL UNIQUE,
          name TEXT NOT NULL,
          root TEXT,
          location TEXT NOT NULL UNIQUE,
          source_path TEXT, source_part TEXT, format TEXT,
          source_bytes BIGINT, stored_bytes BIGINT, checksum TEXT,
          file_mtime DOUBLE PRECISION, obs_time DOUBLE PRECISION,
          dimensions TEXT,
          owner_group TEXT,
          is_public BOOLEAN NOT NULL DEFAULT FALSE,
          uploader TEXT,
          status TEXT NOT NULL,
          error TEXT,
          created DOUBLE PRECISION NOT NULL,
          updated DOUBLE PRECISION NOT NULL)
        """,
        #"CREATE INDEX dataset_name ON dataset(name COLLATE "C", id)"#,
        "CREATE INDEX dataset_obs ON dataset(obs_time, id)",
        """
        CREATE TABLE dataset_group(
          dataset_id BIGINT NOT NULL REFERENCES dataset(id) ON DELETE CASCADE,
          grp TEXT NOT NULL,
          PRIMARY KEY(dataset_id, grp))
        """,
        "CREATE INDEX dataset_group_grp ON dataset_group(grp, dataset_id)",
        """
        CREATE TABLE meta(
          dataset_id BIGINT NOT NULL REFERENCES dataset(id) ON DELETE CASCADE,
          seq INTEGER NOT NULL,
          scope TEXT NOT NULL,
          key TEXT NOT NULL,
          idx INTEGER NOT NULL,
          vtype SMALLINT NOT NULL,
          num DOUBLE PRECISION,
          str TEXT NOT NULL,
          PRIMARY KEY(dataset_id, seq))
        """,
        "CREATE INDEX meta_key_num ON meta(key, num, dataset_id)",
        // `str` is at most MetaRow.maxTextBytes (1 KiB), under a btree entry's limit.
        #"CREATE INDEX meta_key_str ON meta(key, str COLLATE "C", dataset_id)"#,
        """
        CREATE TABLE dataset_doc(
          dataset_id BIGINT PRIMARY KEY REFERENCES dataset(id) ON DELETE CASCADE,
          json TEXT NOT NULL)
        """,
        """
        CREATE TABLE dataset_text(
          dataset_id BIGINT PRIMARY KEY REFERENCES dataset(id) ON DELETE CASCADE,
          body TEXT NOT NULL,
          tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)
        """,
        "CREATE INDEX dataset_text_tsv ON dataset_text USING gin(tsv)",
        "CREATE TABLE catalog_state(key TEXT PRIMARY KEY, value BIGINT NOT NULL)",
        "INSERT INTO catalog_state(key, value) VALUES ('access_version', 0)",
    ]
}
