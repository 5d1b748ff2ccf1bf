//! CSV import: turns a spreadsheet export into typed rows plus a list of every
//! problem, so a dry run can show the user everything that is wrong at once.
//!
//! Nothing is stored here: the store decides between valid-rows-only and
//! all-or-nothing, and which natural key updates which item. The input is whatever
//! a municipality's Excel wrote (Windows-1252 or UTF-8 with a BOM, `;` in Nordic
//! locales, `,` elsewhere) and it arrives through an upload form, so every byte is
//! untrusted: sizes are bounded, nothing panics, and each complaint names the row
//! and column the user sees in their spreadsheet.

use jiff::civil::Date;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// What a column holds, and so how its cells are checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// Counted in characters, not bytes, so `æ` counts as one, as the user counts it.
    Text {
        max_chars: usize,
    },
    /// `2026-11-23`, `23.11.2026` or `23-11-2026`: ISO and the short dates of
    /// Norwegian and Danish Excel. Never `11/23/2026`, whose day and month
    /// cannot be told apart.
    Date,
    Integer {
        min: i64,
        max: i64,
    },
    /// yes/no, ja/nei, ja/nej, true/false, 1/0, and what Norwegian and Danish
    /// Excel write for TRUE/FALSE (SANN/USANN, SAND/FALSK). An empty cell is
    /// false, because spreadsheets tick with an `x` and leave the rest blank.
    Bool,
    /// Matched ignoring case; the list's spelling is what gets stored.
    Choice(Vec<String>),
    /// ISO 3166-1 alpha-2 codes separated by `,`, `/` or spaces. Only the shape
    /// is checked: the list of countries changes, and the store knows which it serves.
    Countries,
}

/// One expected column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: String,
    pub kind: ColumnKind,
    /// The column must be in the file and its cells must not be empty.
    pub required: bool,
}

impl ColumnSpec {
    pub fn new(name: &str, kind: ColumnKind, required: bool) -> Self {
        let name = name.to_string();
        ColumnSpec {
            name,
            kind,
            required,
        }
    }
}

/// The columns an import accepts. Files are matched by name, so their order is free.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportSchema {
    pub columns: Vec<ColumnSpec>,
}

/// A checked cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CellValue {
    /// The column is in the file but this cell is blank: for an update, "clear it".
    Empty,
    Text(String),
    Date(Date),
    Integer(i64),
    Bool(bool),
    Choice(String),
    /// Upper-case, in the order written, without repeats.
    Countries(Vec<String>),
}

/// A row without problems.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedRow {
    /// The row number the user sees in their spreadsheet: the header is row 1
    /// when nothing precedes it, and empty rows keep their numbers even though
    /// they are skipped, so "row 57" is row 57 in Excel.
    pub row: usize,
    /// Keyed by the schema's spelling of the column name. A column absent from
    /// the file has no entry, so an update can leave that field alone.
    pub values: BTreeMap<String, CellValue>,
}

/// Something wrong with one row, or one cell of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProblem {
    pub row: usize,
    /// The schema's spelling of the column, when the problem is about a cell.
    pub column: Option<String>,
    /// 1-based position in the file, so the user finds the column whatever it is called.
    pub column_number: Option<usize>,
    /// One of [`PROBLEM_CODES`], a translation key for the web layer.
    pub code: &'static str,
    /// English, for logs and the command line.
    pub message: String,
}

/// Every [`RowProblem::code`], so the web layer can test that each has a translation.
pub const PROBLEM_CODES: &[&str] = &[
    "required",
    "too-long",
    "bad-date",
    "bad-integer",
    "out-of-range",
    "bad-bool",
    "bad-choice",
    "bad-country",
    "wrong-field-count",
];

/// The outcome of a dry run: the good rows and everything wrong with the rest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedCsv {
    /// "UTF-8", "UTF-16LE", "UTF-16BE" or "windows-1252", shown so that a user
    /// who sees mangled letters knows why.
    pub encoding: &'static str,
    pub delimiter: u8,
    /// The schema's spelling of the file's columns, in the file's order.
    pub headers: Vec<String>,
    /// Only rows without any problem.
    pub rows: Vec<ParsedRow>,
    pub problems: Vec<RowProblem>,
    /// Problems beyond [`Limits::max_problems`], counted but not listed.
    pub problems_omitted: usize,
    /// Data rows read, good or bad; empty rows are not counted.
    pub total_rows: usize,
    /// Empty rows up to the last row read. Row numbers count them (the
    /// spreadsheet shows them), so every row lies in `2..=total_rows + skipped_rows + 1`.
    pub skipped_rows: usize,
}

/// Bounds on one upload, so a mistaken or hostile file cannot exhaust memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_rows: usize,
    /// Nobody reads more in a dry run, and listing every problem of a broken
    /// 50 MiB file would take gigabytes.
    pub max_problems: usize,
}

impl Default for Limits {
    /// Far above a large municipality's inventory (tens of thousands of items).
    fn default() -> Self {
        Limits {
            max_bytes: 50 * 1024 * 1024,
            max_rows: 500_000,
            max_problems: 10_000,
        }
    }
}

/// A file that cannot be imported at all, as opposed to a [`RowProblem`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes; at most {max} bytes can be imported at once")]
    TooLarge { size: usize, max: usize },
    #[error("the file has more than {max} rows; split it into smaller files")]
    TooManyRows { max: usize },
    #[error(
        "byte {offset} of the file is not UTF-8, UTF-16 or Windows-1252 text; \
         save it from Excel as \"CSV UTF-8\" and import it again"
    )]
    Encoding { offset: usize },
    #[error("the file has no header row naming its columns")]
    MissingHeader,
    #[error("column {column} has no name in the header row")]
    BlankColumnName { column: usize },
    #[error("unknown columns: {}; the columns are: {}", .names.join(", "), .allowed.join(", "))]
    UnknownColumns {
        names: Vec<String>,
        allowed: Vec<String>,
    },
    #[error("required columns are missing: {}", .names.join(", "))]
    MissingColumns { names: Vec<String> },
    #[error("column {name} appears more than once")]
    DuplicateColumn { name: String },
    #[error("row {row}: {reason}")]
    Malformed { row: usize, reason: String },
}

impl CsvError {
    /// Every [`CsvError::code`], so the web layer can test that each has a translation.
    pub const CODES: &'static [&'static str] = &[
        "csv-empty",
        "csv-too-large",
        "csv-too-many-rows",
        "csv-encoding",
        "csv-missing-header",
        "csv-blank-column-name",
        "csv-unknown-columns",
        "csv-missing-columns",
        "csv-duplicate-column",
        "csv-malformed",
    ];

    /// A stable machine code the web layer turns into a sentence in the reader's language.
    pub fn code(&self) -> &'static str {
        match self {
            CsvError::Empty => "csv-empty",
            CsvError::TooLarge { .. } => "csv-too-large",
            CsvError::TooManyRows { .. } => "csv-too-many-rows",
            CsvError::Encoding { .. } => "csv-encoding",
            CsvError::MissingHeader => "csv-missing-header",
            CsvError::BlankColumnName { .. } => "csv-blank-column-name",
            CsvError::UnknownColumns { .. } => "csv-unknown-columns",
            CsvError::MissingColumns { .. } => "csv-missing-columns",
            CsvError::DuplicateColumn { .. } => "csv-duplicate-column",
            CsvError::Malformed { .. } => "csv-malformed",
        }
    }
}

/// Reads a whole upload: decodes it, finds the delimiter, matches the header to
/// the schema and checks every cell. Problems in rows are collected, not fatal,
/// so one dry run lists them all.
pub fn parse(bytes: &[u8], schema: &ImportSchema, limits: &Limits) -> Result<ParsedCsv, CsvError> {
    if bytes.len() > limits.max_bytes {
        return Err(CsvError::TooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let (text, encoding) = detect_encoding(bytes)?;
    if clean(&text).is_empty() {
        return Err(CsvError::Empty);
    }
    let (sep, body) = split_sep_line(&text);
    let sniffed = sep.unwrap_or_else(|| sniff_delimiter(first_line(body)));
    let mut result = read_body(body, sniffed, schema, limits);
    // One line can fool the sniffer ("Navn;Pris, kr" is a tie), but a header that
    // names the schema's columns under another delimiter settles it.
    if sep.is_none() && matches!(result, Err(CsvError::UnknownColumns { .. })) {
        for other in [b';', b',', b'\t'].into_iter().filter(|d| *d != sniffed) {
            let attempt = read_body(body, other, schema, limits);
            if !is_header_error(&attempt) {
                result = attempt;
                break;
            }
        }
    }
    result.map(|parsed| ParsedCsv { encoding, ..parsed })
}

/// Decodes the bytes as the first of UTF-16 (by its BOM), UTF-8 or Windows-1252
/// that fits, and names it. UTF-16 without a BOM is not guessed: its ASCII is
/// full of NUL bytes, which are refused, so a wrong guess cannot become a
/// plausible but garbled import.
pub fn detect_encoding(bytes: &[u8]) -> Result<(Cow<'_, str>, &'static str), CsvError> {
    if let Some(body) = bytes.strip_prefix(b"\xFF\xFE") {
        return decode_utf16(body, u16::from_le_bytes).map(|s| (Cow::Owned(s), "UTF-16LE"));
    }
    if let Some(body) = bytes.strip_prefix(b"\xFE\xFF") {
        return decode_utf16(body, u16::from_be_bytes).map(|s| (Cow::Owned(s), "UTF-16BE"));
    }
    let (body, bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(body) => (body, 3),
        None => (bytes, 0),
    };
    if let Some(offset) = body.iter().position(|b| *b == 0) {
        return Err(CsvError::Encoding {
            offset: bom + offset,
        });
    }
    match std::str::from_utf8(body) {
        Ok(text) => Ok((Cow::Borrowed(text), "UTF-8")),
        // A BOM promises UTF-8, so bad UTF-8 after one is damage, not Windows-1252.
        Err(e) if bom > 0 => Err(CsvError::Encoding {
            offset: bom + e.valid_up_to(),
        }),
        Err(_) => {
            // encoding_rs follows WHATWG and maps these five to control characters;
            // real Windows-1252 text never has them, so they mean another encoding.
            let undefined = |b: &u8| matches!(b, 0x81 | 0x8D | 0x8F | 0x90 | 0x9D);
            if let Some(offset) = body.iter().position(undefined) {
                return Err(CsvError::Encoding { offset });
            }
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(body);
            Ok((text, "windows-1252"))
        }
    }
}

fn decode_utf16(body: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, CsvError> {
    let units = body.chunks_exact(2).map(|pair| match *pair {
        [a, b] => unit([a, b]),
        _ => 0,
    });
    let mut text = String::with_capacity(body.len() / 2);
    let mut offset = 2;
    for c in char::decode_utf16(units) {
        let c = c
            .ok()
            .filter(|c| *c != '\0')
            .ok_or(CsvError::Encoding { offset })?;
        text.push(c);
        offset += 2 * c.len_utf16();
    }
    if body.len() % 2 == 1 {
        return Err(CsvError::Encoding {
            offset: body.len() + 1,
        });
    }
    Ok(text)
}

/// The delimiter of a header line: the most frequent of `;`, `,` and tab outside
/// quotes, `,` on a tie (a one-column file splits the same either way). Excel's
/// `sep=;` line, written for exactly this doubt, wins when present.
pub fn sniff_delimiter(first_line: &str) -> u8 {
    if let Some(d) = sep_directive(first_line) {
        return d;
    }
    let (mut semicolons, mut commas, mut tabs, mut quoted) = (0, 0, 0, false);
    for c in first_line.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => semicolons += 1,
            ',' if !quoted => commas += 1,
            '\t' if !quoted => tabs += 1,
            _ => {}
        }
    }
    if commas >= semicolons && commas >= tabs {
        b','
    } else if semicolons >= tabs {
        b';'
    } else {
        b'\t'
    }
}

fn sep_directive(line: &str) -> Option<u8> {
    let line = line
        .trim_end_matches(['\r', '\n'])
        .trim_matches([' ', '\u{feff}']);
    let (key, value) = line.split_at_checked(4)?;
    match value {
        _ if !key.eq_ignore_ascii_case("sep=") => None,
        ";" => Some(b';'),
        "," => Some(b','),
        "\t" => Some(b'\t'),
        _ => None,
    }
}

/// The delimiter from a `sep=` first line, and the text after that line. Excel
/// hides the line, so it is no spreadsheet row and row numbers start after it.
fn split_sep_line(text: &str) -> (Option<u8>, &str) {
    let end = text.find(['\r', '\n']).unwrap_or(text.len());
    let (line, rest) = (text.get(..end).unwrap_or(""), text.get(end..).unwrap_or(""));
    match sep_directive(line) {
        Some(d) => {
            let rest = rest
                .strip_prefix("\r\n")
                .or_else(|| rest.strip_prefix(['\r', '\n']));
            (Some(d), rest.unwrap_or(""))
        }
        None => (None, text),
    }
}

fn first_line(body: &str) -> &str {
    body.split(['\r', '\n'])
        .find(|l| !clean(l).is_empty())
        .unwrap_or("")
}

/// Whitespace and stray BOMs, which Excel users cannot see and never mean.
fn clean(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

fn is_header_error<T>(result: &Result<T, CsvError>) -> bool {
    use CsvError::*;
    matches!(
        result,
        Err(UnknownColumns { .. }
            | MissingColumns { .. }
            | DuplicateColumn { .. }
            | BlankColumnName { .. }
            | MissingHeader)
    )
}

fn read_body(
    body: &str,
    delimiter: u8,
    schema: &ImportSchema,
    limits: &Limits,
) -> Result<ParsedCsv, CsvError> {
    // A first pass finds an unclosed quote, which the csv crate would read to the
    // end of the file without complaint, swallowing every later row.
    let mut scan = RowScanner::new(body.as_bytes(), delimiter);
    scan.row_at(body.len());
    let malformed = |row| {
        let reason = "a cell starts with a quote (\") that is never closed".to_string();
        CsvError::Malformed { row, reason }
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes());
    let mut rows = RowScanner::new(body.as_bytes(), delimiter);
    let mut record = csv::StringRecord::new();
    let mut header: Option<Vec<Option<usize>>> = None;
    let mut out = ParsedCsv {
        delimiter,
        ..ParsedCsv::default()
    };
    let mut last_row = 0;
    loop {
        let read = reader.read_record(&mut record);
        let more = read.map_err(|e| CsvError::Malformed {
            row: last_row + 1,
            reason: e.to_string(),
        })?;
        if !more {
            break;
        }
        // The csv crate's position is just past the previous record, before any
        // empty lines; its `line()` counts text lines, not spreadsheet rows.
        let at = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok());
        let at = at.unwrap_or(usize::MAX).min(body.len());
        let gap = body.as_bytes().get(at..).unwrap_or_default();
        let row = rows.row_at(at + gap.iter().take_while(|b| is_line_end(**b)).count());
        last_row = row;
        if record.iter().all(|field| clean(field).is_empty()) {
            continue;
        }
        match &header {
            // Header errors first, unless the quote swallowed the header itself.
            None => match scan.unclosed_quote_row() {
                Some(quote) if quote <= row => return Err(malformed(quote)),
                quote => {
                    header = Some(match_header(&record, schema, &mut out.headers)?);
                    if let Some(quote) = quote {
                        return Err(malformed(quote));
                    }
                }
            },
            Some(columns) => {
                out.total_rows += 1;
                if out.total_rows > limits.max_rows {
                    return Err(CsvError::TooManyRows {
                        max: limits.max_rows,
                    });
                }
                check_row(columns, schema, &record, row, limits, &mut out);
            }
        }
    }
    if header.is_none() {
        return Err(scan
            .unclosed_quote_row()
            .map_or(CsvError::MissingHeader, malformed));
    }
    out.skipped_rows = last_row.saturating_sub(1 + out.total_rows);
    Ok(out)
}

fn is_line_end(b: u8) -> bool {
    b == b'\r' || b == b'\n'
}

/// Counts spreadsheet rows by the csv crate's rules: `\r`, `\n` or `\r\n` end a
/// row outside quotes, a quote opens a cell only as its first character, and
/// `""` inside is a quote. Cells may hold line breaks and empty lines are rows
/// too, so neither text lines nor records give the row the user sees. It reads
/// forward only, so a whole file costs one pass and no memory per row.
struct RowScanner<'a> {
    text: &'a [u8],
    delimiter: u8,
    at: usize,
    row: usize,
    state: ScanState,
}

#[derive(Clone, Copy)]
enum ScanState {
    CellStart,
    Unquoted,
    /// Inside quotes opened on this row.
    Quoted(usize),
    QuoteInQuoted(usize),
}

impl<'a> RowScanner<'a> {
    fn new(text: &'a [u8], delimiter: u8) -> Self {
        RowScanner {
            text,
            delimiter,
            at: 0,
            row: 1,
            state: ScanState::CellStart,
        }
    }

    /// The row holding byte `end`; `end` must not go backwards.
    fn row_at(&mut self, end: usize) -> usize {
        use ScanState::*;
        while let Some(&b) = self.text.get(self.at).filter(|_| self.at < end) {
            let after_cr = self.at > 0 && self.text.get(self.at - 1) == Some(&b'\r');
            self.state = match self.state {
                Quoted(start) if b == b'"' => QuoteInQuoted(start),
                Quoted(start) => Quoted(start),
                QuoteInQuoted(start) if b == b'"' => Quoted(start),
                // Outside quotes here, so that `\r` ended the row already.
                _ if b == b'\n' && after_cr => CellStart,
                _ if is_line_end(b) => {
                    self.row += 1;
                    CellStart
                }
                CellStart if b == b'"' => Quoted(self.row),
                _ if b == self.delimiter => CellStart,
                _ => Unquoted,
            };
            self.at += 1;
        }
        self.row
    }

    /// Where a quote opened that is still open at the point read up to.
    fn unclosed_quote_row(&self) -> Option<usize> {
        match self.state {
            ScanState::Quoted(row) => Some(row),
            _ => None,
        }
    }
}

/// Maps each file column to its schema column (`None` for the nameless columns
/// at the end that Excel writes when a stray cell widened the sheet) and fills
/// `headers` with the schema's names in file order.
fn match_header(
    record: &csv::StringRecord,
    schema: &ImportSchema,
    headers: &mut Vec<String>,
) -> Result<Vec<Option<usize>>, CsvError> {
    let names: Vec<&str> = record.iter().map(clean).collect();
    let named = names
        .iter()
        .rposition(|n| !n.is_empty())
        .map_or(0, |i| i + 1);
    if let Some(blank) = names.iter().take(named).position(|n| n.is_empty()) {
        return Err(CsvError::BlankColumnName { column: blank + 1 });
    }
    let keys: Vec<String> = schema
        .columns
        .iter()
        .map(|c| c.name.trim().to_lowercase())
        .collect();
    let find = |name: &str| {
        let name = name.to_lowercase();
        keys.iter().position(|k| *k == name)
    };
    let columns: Vec<Option<usize>> = names
        .iter()
        .enumerate()
        .map(|(i, name)| if i < named { find(name) } else { None })
        .collect();
    // Twenty are enough to show that a file is not what the import expects.
    let mut unknown: Vec<String> = Vec::new();
    for (name, _) in names
        .iter()
        .zip(&columns)
        .take(named)
        .filter(|(_, c)| c.is_none())
    {
        let lower = name.to_lowercase();
        if !unknown.iter().any(|u| u.to_lowercase() == lower) {
            unknown.push(name.to_string());
        }
        if unknown.len() == 20 {
            break;
        }
    }
    if !unknown.is_empty() {
        let allowed = schema.columns.iter().map(|c| c.name.clone()).collect();
        return Err(CsvError::UnknownColumns {
            names: unknown,
            allowed,
        });
    }
    let mut seen = vec![false; schema.columns.len()];
    for &index in columns.iter().flatten() {
        let (Some(spec), Some(seen)) = (schema.columns.get(index), seen.get_mut(index)) else {
            continue;
        };
        if std::mem::replace(seen, true) {
            return Err(CsvError::DuplicateColumn {
                name: spec.name.clone(),
            });
        }
        headers.push(spec.name.clone());
    }
    let missing: Vec<String> = (schema.columns.iter().zip(&seen))
        .filter(|(spec, seen)| spec.required && !**seen)
        .map(|(spec, _)| spec.name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(CsvError::MissingColumns { names: missing });
    }
    Ok(columns)
}

fn check_row(
    columns: &[Option<usize>],
    schema: &ImportSchema,
    record: &csv::StringRecord,
    row: usize,
    limits: &Limits,
    out: &mut ParsedCsv,
) {
    let problem = |spec: Option<&ColumnSpec>, number, code, message| RowProblem {
        row,
        column: spec.map(|c| c.name.clone()),
        column_number: number,
        code,
        message,
    };
    let (mut values, mut problems) = (BTreeMap::new(), Vec::new());
    if record.len() != columns.len() {
        let message = format!(
            "the row has {} cells; the header has {}",
            record.len(),
            columns.len()
        );
        problems.push(problem(None, None, "wrong-field-count", message));
    } else {
        for (i, (field, column)) in record.iter().zip(columns).enumerate() {
            match column.and_then(|c| schema.columns.get(c)) {
                Some(spec) => match check_cell(spec, field) {
                    Ok(value) => {
                        values.insert(spec.name.clone(), value);
                    }
                    Err((code, message)) => {
                        problems.push(problem(Some(spec), Some(i + 1), code, message))
                    }
                },
                None if clean(field).is_empty() => {}
                None => {
                    let message = format!(
                        "column {} has no name in the header but holds a value",
                        i + 1
                    );
                    problems.push(problem(None, Some(i + 1), "wrong-field-count", message));
                }
            }
        }
    }
    if problems.is_empty() {
        out.rows.push(ParsedRow { row, values });
    }
    let room = limits.max_problems.saturating_sub(out.problems.len());
    out.problems_omitted += problems.len().saturating_sub(room);
    out.problems.extend(problems.into_iter().take(room));
}

type CellResult<T> = Result<T, (&'static str, String)>;

fn check_cell(spec: &ColumnSpec, raw: &str) -> CellResult<CellValue> {
    let text = unneutralise(raw.trim());
    let required = || Err(("required", "is required but empty".to_string()));
    match &spec.kind {
        ColumnKind::Bool if text.is_empty() => Ok(CellValue::Bool(false)),
        _ if text.is_empty() && spec.required => required(),
        _ if text.is_empty() => Ok(CellValue::Empty),
        ColumnKind::Text { max_chars } => match text.chars().count() {
            n if n > *max_chars => Err((
                "too-long",
                format!("has {n} characters; at most {max_chars} fit"),
            )),
            _ => Ok(CellValue::Text(text.to_string())),
        },
        ColumnKind::Date => parse_date(text).map(CellValue::Date).ok_or_else(|| {
            let formats =
                "2026-11-23 (YYYY-MM-DD), 23.11.2026 (DD.MM.YYYY) or 23-11-2026 (DD-MM-YYYY)";
            (
                "bad-date",
                format!("{} is not a date; write {formats}", shown(text)),
            )
        }),
        ColumnKind::Integer { min, max } => parse_integer(text, *min, *max).map(CellValue::Integer),
        ColumnKind::Bool => parse_bool(text).map(CellValue::Bool).ok_or_else(|| {
            let words = "yes/no, ja/nei, ja/nej, true/false, 1/0, or x for yes";
            (
                "bad-bool",
                format!("{} is not yes or no; write {words}", shown(text)),
            )
        }),
        ColumnKind::Choice(options) => {
            match options
                .iter()
                .find(|o| o.trim().to_lowercase() == text.to_lowercase())
            {
                Some(option) => Ok(CellValue::Choice(option.clone())),
                None => Err((
                    "bad-choice",
                    format!("{} is not one of: {}", shown(text), options.join(", ")),
                )),
            }
        }
        ColumnKind::Countries => match parse_countries(text)? {
            codes if codes.is_empty() && spec.required => required(),
            codes if codes.is_empty() => Ok(CellValue::Empty),
            codes => Ok(CellValue::Countries(codes)),
        },
    }
}

/// A value quoted for a message, cut short so one huge cell cannot bloat a report.
fn shown(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("\"{}…\"", text.get(..end).unwrap_or(text)),
        None => format!("\"{text}\""),
    }
}

fn parse_date(text: &str) -> Option<Date> {
    let dotted = text.contains('.');
    if dotted && text.contains('-') {
        return None;
    }
    let parts: Vec<&str> = text.split(['-', '.']).collect();
    let (year, month, day) = match *parts.as_slice() {
        [y, m, d] if y.len() == 4 && !dotted => (y, m, d),
        [d, m, y] if y.len() == 4 => (y, m, d),
        _ => return None,
    };
    let digits = |s: &str, max: usize| s.len() <= max && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(year, 4) || !digits(month, 2) || !digits(day, 2) {
        return None;
    }
    Date::new(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?).ok()
}

fn parse_integer(text: &str, min: i64, max: i64) -> CellResult<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err((
            "bad-integer",
            format!("{} is not a whole number", shown(text)),
        ));
    }
    match text.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err((
            "out-of-range",
            format!("{} is not between {min} and {max}", shown(text)),
        )),
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_lowercase().as_str() {
        "yes" | "ja" | "true" | "1" | "x" | "sann" | "sand" => Some(true),
        "no" | "nei" | "nej" | "false" | "0" | "usann" | "falsk" => Some(false),
        _ => None,
    }
}

fn parse_countries(text: &str) -> CellResult<Vec<String>> {
    let (mut codes, mut seen, mut bad) = (Vec::new(), BTreeSet::new(), Vec::new());
    for part in text.split(|c: char| c == ',' || c == '/' || c.is_whitespace()) {
        if part.len() == 2 && part.bytes().all(|b| b.is_ascii_alphabetic()) {
            let code = part.to_ascii_uppercase();
            if seen.insert(code.clone()) {
                codes.push(code);
            }
        } else if !part.is_empty() && bad.len() < 5 {
            bad.push(shown(part));
        }
    }
    if !bad.is_empty() {
        let message = format!(
            "{} is not a two-letter country code such as NO, DK or SE",
            bad.join(", ")
        );
        return Err(("bad-country", message));
    }
    Ok(codes)
}

/// Whether a spreadsheet could run the cell as a formula (`=`, `+`, `-`, `@`,
/// tab, CR), possibly behind apostrophes added by an earlier export.
fn needs_apostrophe(cell: &str) -> bool {
    cell.trim_start_matches('\'')
        .starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Undoes [`to_csv`]'s apostrophe, so an export edited and imported again keeps
/// its values ("-5" stays a number). A cell that merely looks guarded loses its
/// apostrophe too, which is harmless: every export guards it again.
fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_apostrophe(rest) => rest,
        _ => cell,
    }
}

/// Writes rows for Excel to open. UTF-8 with a BOM, because without one Excel
/// reads a CSV in the Windows code page and mangles æøå; `;` because Norwegian
/// and Danish Excel, where `,` is the decimal comma, split on it when a file is
/// opened by double-click (English-locale Excel will not). No `sep=;` line: with
/// one, Excel ignores the BOM. Cells a spreadsheet would run as formulas get a
/// leading apostrophe (OWASP's CSV injection advice), which [`parse`] removes.
pub fn to_csv(headers: &[String], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = String::from("\u{feff}");
    write_record(&mut out, headers);
    for row in rows {
        write_record(&mut out, &row);
    }
    out
}

fn write_record(out: &mut String, cells: &[String]) {
    if let [only] = cells
        && only.is_empty()
    {
        // A bare empty line would read back as no row at all.
        out.push_str("\"\"\r\n");
        return;
    }
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        let guard = if needs_apostrophe(cell) { "'" } else { "" };
        if cell.contains([';', '"', '\r', '\n']) {
            out.push_str(&format!("\"{guard}{}\"", cell.replace('"', "\"\"")));
        } else {
            out.push_str(&format!("{guard}{cell}"));
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnKind::{Bool, Choice, Countries, Integer, Text};
    use proptest::prelude::*;

    fn schema() -> ImportSchema {
        let columns = vec![
            ColumnSpec::new("Name", Text { max_chars: 12 }, true),
            ColumnSpec::new("Bought", ColumnKind::Date, false),
            ColumnSpec::new("RAM", Integer { min: 1, max: 1024 }, false),
            ColumnSpec::new("Active", Bool, false),
            ColumnSpec::new(
                "Type",
                Choice(vec!["Laptop".into(), "Server".into()]),
                false,
            ),
            ColumnSpec::new("Countries", Countries, false),
        ];
        ImportSchema { columns }
    }

    fn texts(names: &[&str]) -> ImportSchema {
        let text = |(i, n): (usize, &&str)| ColumnSpec::new(n, Text { max_chars: 20 }, i == 0);
        ImportSchema {
            columns: names.iter().enumerate().map(text).collect(),
        }
    }

    fn ok(text: &str) -> ParsedCsv {
        parse(text.as_bytes(), &schema(), &Limits::default()).expect("parses")
    }

    fn err(text: &str) -> CsvError {
        parse(text.as_bytes(), &schema(), &Limits::default()).expect_err("is refused")
    }

    /// `row:column:code` of each problem, `-` for no column.
    fn problems(parsed: &ParsedCsv) -> String {
        let column = |p: &RowProblem| p.column_number.map_or("-".into(), |n| n.to_string());
        let one = |p: &RowProblem| format!("{}:{}:{}", p.row, column(p), p.code);
        parsed
            .problems
            .iter()
            .map(one)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The cells of the `index`th good row in column-name order, as Debug text.
    fn cells(parsed: &ParsedCsv, index: usize) -> String {
        let row = parsed
            .rows
            .get(index)
            .map(|r| r.values.values().collect::<Vec<_>>());
        format!("{:?}", row.unwrap_or_default())
    }

    #[test]
    fn a_nordic_export_parses_into_typed_values() {
        let parsed = ok("name ; BOUGHT;ram;Active;type;countries\r\n\
             pc-01;23.11.2026;16;x;laptop;no, dk\r\n\
             srv-01;2026-01-02;+512;;SERVER;se/FI NO se\r\n");
        assert_eq!(
            (parsed.encoding, parsed.delimiter, parsed.total_rows),
            ("UTF-8", b';', 2)
        );
        assert_eq!(
            parsed.headers,
            ["Name", "Bought", "RAM", "Active", "Type", "Countries"]
        );
        assert_eq!(
            (problems(&parsed), parsed.rows[0].row, parsed.rows[1].row),
            ("".into(), 2, 3)
        );
        assert_eq!(
            cells(&parsed, 0),
            r#"[Bool(true), Date(2026-11-23), Countries(["NO", "DK"]), Text("pc-01"), Integer(16), Choice("Laptop")]"#
        );
        assert_eq!(
            cells(&parsed, 1),
            r#"[Bool(false), Date(2026-01-02), Countries(["SE", "FI", "NO"]), Text("srv-01"), Integer(512), Choice("Server")]"#
        );
        // An absent column has no entry; a blank cell in a present one is Empty.
        assert_eq!(cells(&ok("Name,RAM\nweb,\n"), 0), r#"[Text("web"), Empty]"#);
    }

    #[test]
    fn delimiters_are_sniffed_outside_quotes_and_a_sep_line_wins() {
        for file in [
            "Name,Type\npc,Laptop",
            "Name;Type\npc;Laptop",
            "Name\tType\npc\tLaptop",
        ] {
            let parsed = ok(file);
            assert_eq!(parsed.delimiter, file.as_bytes()[4]);
            assert_eq!(cells(&parsed, 0), r#"[Text("pc"), Choice("Laptop")]"#);
        }
        for (line, delimiter) in [
            ("a;b;c,d", b';'),
            ("a,\"b;c;d\"", b','),
            ("a\tb\tc;d", b'\t'),
            ("a;b,c", b','),
            ("name", b','),
            ("sep=;", b';'),
            ("SEP=\t\r\n", b'\t'),
        ] {
            assert_eq!(sniff_delimiter(line), delimiter, "{line:?}");
        }
        // Excel hides the sep line, so the header is still row 1.
        let parsed = ok("sep=,\r\nName,Type\r\npc;1,Laptop\r\npc2,Tablet\r\n");
        assert_eq!(
            (parsed.delimiter, problems(&parsed)),
            (b',', "3:2:bad-choice".into())
        );
        assert_eq!(cells(&parsed, 0), r#"[Text("pc;1"), Choice("Laptop")]"#);
    }

    #[test]
    fn a_tie_sniffed_wrongly_is_settled_by_the_header() {
        let schema = texts(&["Price, kr", "Name"]);
        let parsed = parse(b"Name;Price, kr\npc;12\n", &schema, &Limits::default()).unwrap();
        assert_eq!(
            (parsed.delimiter, cells(&parsed, 0)),
            (b';', r#"[Text("pc"), Text("12")]"#.into())
        );
    }

    #[test]
    fn windows_1252_utf8_with_a_bom_and_utf16_with_a_bom_are_decoded() {
        let file = "Navn;Sted\r\nBærbar PC;Tromsø\r\n";
        let utf16 = |bom: [u8; 2], unit: fn(u16) -> [u8; 2]| -> Vec<u8> {
            bom.into_iter()
                .chain(file.encode_utf16().flat_map(unit))
                .collect()
        };
        for (bytes, encoding) in [
            (
                b"Navn;Sted\r\nB\xe6rbar PC;Troms\xf8\r\n".to_vec(),
                "windows-1252",
            ),
            ([&b"\xEF\xBB\xBF"[..], file.as_bytes()].concat(), "UTF-8"),
            (utf16([0xFF, 0xFE], u16::to_le_bytes), "UTF-16LE"),
            (utf16([0xFE, 0xFF], u16::to_be_bytes), "UTF-16BE"),
        ] {
            let parsed = parse(&bytes, &texts(&["Navn", "Sted"]), &Limits::default()).unwrap();
            assert_eq!(parsed.encoding, encoding);
            assert_eq!(cells(&parsed, 0), r#"[Text("Bærbar PC"), Text("Tromsø")]"#);
        }
    }

    #[test]
    fn bytes_that_are_no_known_text_are_refused_with_their_offset() {
        let e = parse(b"Name\r\nB\xe6r\x81\r\n", &schema(), &Limits::default()).unwrap_err();
        assert_eq!(
            (e.code(), &e),
            ("csv-encoding", &CsvError::Encoding { offset: 9 })
        );
        assert!(e.to_string().contains("byte 9") && e.to_string().contains("\"CSV UTF-8\""));
        for (bytes, offset) in [
            (&b"Name\r\npc\x00\r\n"[..], 8),
            // A BOM promises UTF-8, so a Windows-1252 byte after one is an error.
            (b"\xEF\xBB\xBFName\n\xe6\n", 8),
            // UTF-16 without a BOM: the NUL bytes of its ASCII give it away.
            (b"N\x00a\x00", 1),
            // An unpaired surrogate, and an odd trailing byte.
            (b"\xFF\xFEa\x00\x00\xD8b\x00", 4),
            (b"\xFE\xFF\x00a\x00", 4),
        ] {
            let refused = Err(CsvError::Encoding { offset });
            assert_eq!(detect_encoding(bytes).map(|_| ()), refused, "{bytes:?}");
        }
    }

    #[test]
    fn empty_huge_long_and_headerless_files_are_refused() {
        for file in ["", "\u{feff}", " \r\n\r\n"] {
            assert_eq!(
                (err(file).code(), err(file)),
                ("csv-empty", CsvError::Empty)
            );
        }
        for file in ["sep=;\r\n", ";;\r\n ; \r\n"] {
            assert_eq!(
                (err(file).code(), err(file)),
                ("csv-missing-header", CsvError::MissingHeader)
            );
        }
        let limits = |max_bytes| Limits {
            max_bytes,
            max_rows: 2,
            max_problems: 2,
        };
        let e = parse(b"Name\npc1\npc2\npc3\n", &schema(), &limits(16)).unwrap_err();
        assert_eq!(
            (e.code(), e),
            ("csv-too-large", CsvError::TooLarge { size: 17, max: 16 })
        );
        assert!(parse(b"Name\npc1\n\n \npc2\n", &schema(), &limits(100)).is_ok());
        let e = parse(b"Name\npc1\npc2\npc3\n", &schema(), &limits(100)).unwrap_err();
        assert_eq!(
            (e.code(), e),
            ("csv-too-many-rows", CsvError::TooManyRows { max: 2 })
        );
        // Problems beyond the limit are counted, and their rows still left out.
        let parsed = parse(b"Name;RAM\n;x\npc;0\n", &schema(), &limits(100)).unwrap();
        assert_eq!(problems(&parsed), "2:1:required 2:2:bad-integer");
        assert_eq!((parsed.problems_omitted, parsed.rows.len()), (1, 0));
    }

    #[test]
    fn header_names_are_checked_against_the_schema() {
        let e = err("Name;Colour;Weight;colour\npc;red;1;red\n");
        let allowed = schema().columns.iter().map(|c| c.name.clone()).collect();
        let names = vec!["Colour".into(), "Weight".into()];
        assert_eq!(
            (e.code(), &e),
            (
                "csv-unknown-columns",
                &CsvError::UnknownColumns { names, allowed }
            )
        );
        assert!(e.to_string().contains("Name, Bought, RAM"));
        let e = err("Type;RAM\nLaptop;8\n");
        let names = vec!["Name".into()];
        assert_eq!(
            (e.code(), e),
            ("csv-missing-columns", CsvError::MissingColumns { names })
        );
        let (e, name) = (err("Name;RAM;ram \npc;1;2\n"), "RAM".into());
        assert_eq!(
            (e.code(), e),
            ("csv-duplicate-column", CsvError::DuplicateColumn { name })
        );
        let e = err("Name;;RAM\npc;;1\n");
        assert_eq!(
            (e.code(), e),
            (
                "csv-blank-column-name",
                CsvError::BlankColumnName { column: 2 }
            )
        );
        // Nameless columns at the end come from a widened sheet; fine while empty.
        let parsed = ok("Name;RAM;;\npc1;8;;\npc2;8;;oops\n");
        assert_eq!(
            (parsed.headers.join(","), problems(&parsed)),
            ("Name,RAM".into(), "3:4:wrong-field-count".into())
        );
        assert_eq!(cells(&parsed, 0), r#"[Text("pc1"), Integer(8)]"#);
    }

    #[test]
    fn an_unclosed_quote_refuses_the_file_at_its_row() {
        let e = err("Name;Type\npc1;Laptop\n\"pc2;Laptop\npc3;Laptop\n");
        assert_eq!(e.code(), "csv-malformed");
        assert!(matches!(e, CsvError::Malformed { row: 3, .. }), "{e:?}");
        assert!(matches!(
            err("\"Name\npc\n"),
            CsvError::Malformed { row: 1, .. }
        ));
        assert!(matches!(
            err("\n\n\"Name"),
            CsvError::Malformed { row: 3, .. }
        ));
        // A bad header is reported as such, also when another delimiter would
        // see an unclosed quote further down.
        assert_eq!(err("Colour,Size\na;\"b\n").code(), "csv-unknown-columns");
        // Quotes inside an unquoted cell are just characters, and "" is a quote.
        let parsed = ok("Name\n5\" disk\n\"say \"\"hi\"\"\"\n");
        assert_eq!(
            cells(&parsed, 0) + &cells(&parsed, 1),
            r#"[Text("5\" disk")][Text("say \"hi\"")]"#
        );
    }

    #[test]
    fn every_problem_code_names_its_row_and_column() {
        let parsed = ok("Name;Bought;RAM;Active;Type;Countries\n\
             ;;;;;NO\n\
             a-very-long-name;31.02.2026;many;maybe;Desktop;NOR\n\
             pc;2026-1-2;0;JA;laptop;\n\
             pc;23-11-2026;99999999999999999999;Nej;Server;dk\n\
             pc;1;2\n\
             pc;;;;;;;\n");
        let expected = "2:1:required 3:1:too-long 3:2:bad-date 3:3:bad-integer 3:4:bad-bool \
            3:5:bad-choice 3:6:bad-country 4:3:out-of-range 5:3:out-of-range \
            6:-:wrong-field-count 7:-:wrong-field-count";
        assert_eq!(problems(&parsed), expected);
        assert_eq!((parsed.total_rows, parsed.rows.len()), (6, 0));
        let (choice, date) = (&parsed.problems[5], &parsed.problems[2]);
        assert_eq!(choice.column.as_deref(), Some("Type"));
        assert!(
            choice.message.contains("Laptop, Server"),
            "{}",
            choice.message
        );
        assert!(
            date.message.contains("23.11.2026 (DD.MM.YYYY)"),
            "{}",
            date.message
        );
        assert!(
            parsed
                .problems
                .iter()
                .all(|p| PROBLEM_CODES.contains(&p.code))
        );
    }

    #[test]
    fn dates_and_bools_in_the_forms_our_users_write() {
        for good in ["2026-11-23", "23.11.2026", "23-11-2026"] {
            assert_eq!(parse_date(good), Date::new(2026, 11, 23).ok(), "{good}");
        }
        assert_eq!(parse_date("1.2.2024"), Date::new(2024, 2, 1).ok());
        assert_eq!(parse_date("2024-02-29"), Date::new(2024, 2, 29).ok());
        for bad in [
            "2026-02-29",
            "11/23/2026",
            "2026.11.23",
            "23.11.26",
            "23.11-2026",
            "+2026-11-23",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(
            (parse_date("2026-11-23 00:00"), parse_date("2026--1")),
            (None, None)
        );
        for yes in ["yes", "JA", "True", "1", "x", "X", "SANN", "sand"] {
            assert_eq!(parse_bool(yes), Some(true), "{yes}");
        }
        for no in ["no", "Nei", "NEJ", "false", "0", "USANN", "falsk"] {
            assert_eq!(parse_bool(no), Some(false), "{no}");
        }
        assert_eq!((parse_bool("y"), parse_bool("2")), (None, None));
    }

    #[test]
    fn line_breaks_in_cells_and_empty_rows_keep_spreadsheet_row_numbers() {
        let file = "Name;Type\r\n\"pc;1\";Laptop\r\n\"a\r\nb\";\"Ser\nver\"\r\n\r\npc3;Tablet\r\n";
        let parsed = ok(file);
        assert_eq!(cells(&parsed, 0), r#"[Text("pc;1"), Choice("Laptop")]"#);
        // Row 3 spans two lines of text and row 4 is empty, so pc3 is row 5 in Excel.
        assert_eq!(problems(&parsed), "3:2:bad-choice 5:2:bad-choice");
        assert_eq!((parsed.total_rows, parsed.skipped_rows), (3, 1));
        let parsed = ok("\nName;RAM\n;\n\n  ;  \npc;x\r\r\n\rpc;y\n\n");
        assert_eq!(problems(&parsed), "6:2:bad-integer 9:2:bad-integer");
        assert_eq!((parsed.total_rows, parsed.skipped_rows), (2, 6));
    }

    fn strings<const N: usize>(rows: &[[&str; N]]) -> Vec<Vec<String>> {
        rows.iter().map(|r| r.map(String::from).to_vec()).collect()
    }

    #[test]
    fn to_csv_writes_what_nordic_excel_opens_and_guards_formulas() {
        let rows = [
            ["pc;1", "say \"hi\"\nbye"],
            ["=HYPERLINK(\"x\")", "-5"],
            ["@SUM(A1)", "\tx"],
        ];
        let csv = to_csv(&["Name".into(), "Note".into()], strings(&[["+47", "'=x"]]));
        assert_eq!(csv, "\u{feff}Name;Note\r\n'+47;''=x\r\n");
        let csv = to_csv(&["Name".into(), "Note".into()], strings(&rows));
        let expected = "\u{feff}Name;Note\r\n\"pc;1\";\"say \"\"hi\"\"\nbye\"\r\n\
            \"'=HYPERLINK(\"\"x\"\")\";'-5\r\n'@SUM(A1);'\tx\r\n";
        assert_eq!(csv, expected);
        assert_eq!(
            to_csv(&["Name".into()], strings(&[[""]])),
            "\u{feff}Name\r\n\"\"\r\n"
        );
        // What an export guards comes back as it was, so "-5" is a number again.
        let parsed = ok("Name;RAM\n'=cmd;'+12\n''-x;\npc;'8\n");
        assert_eq!(cells(&parsed, 0), r#"[Text("=cmd"), Integer(12)]"#);
        assert_eq!(cells(&parsed, 1), r#"[Text("'-x"), Empty]"#);
        assert_eq!(problems(&parsed), "4:2:bad-integer");
    }

    #[test]
    fn to_csv_output_parses_back() {
        let headers = ["Name", "Bought", "RAM", "Active", "Countries"].map(String::from);
        let rows = [
            ["Bærbar;1", "23.11.2026", "-5", "ja", "NO DK"],
            ["=1+1", "", "8", "", ""],
        ];
        let mut schema = schema();
        schema.columns[2].kind = Integer { min: -10, max: 10 };
        let csv = to_csv(&headers, strings(&rows));
        let parsed = parse(csv.as_bytes(), &schema, &Limits::default()).unwrap();
        assert_eq!(
            (parsed.encoding, parsed.delimiter, problems(&parsed)),
            ("UTF-8", b';', "".into())
        );
        assert_eq!(
            cells(&parsed, 0),
            r#"[Bool(true), Date(2026-11-23), Countries(["NO", "DK"]), Text("Bærbar;1"), Integer(-5)]"#
        );
        assert_eq!(
            cells(&parsed, 1),
            r#"[Bool(false), Empty, Empty, Text("=1+1"), Integer(8)]"#
        );
    }

    #[test]
    fn codes_are_kebab_case_and_listed() {
        use CsvError::*;
        let (names, allowed, name, reason) = (vec![], vec![], String::new(), String::new());
        #[rustfmt::skip]
        let errors = [
            Empty, TooLarge { size: 2, max: 1 }, TooManyRows { max: 1 }, Encoding { offset: 0 },
            MissingHeader, BlankColumnName { column: 1 }, UnknownColumns { names, allowed },
            MissingColumns { names: vec![] }, DuplicateColumn { name }, Malformed { row: 1, reason },
        ];
        assert_eq!(errors.map(|e| e.code()).as_slice(), CsvError::CODES);
        let kebab = |c: &&str| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
        assert!(CsvError::CODES.iter().chain(PROBLEM_CODES).all(kebab));
    }

    /// Every counted row is good or has problems, and every row number is one
    /// the spreadsheet has.
    fn check_invariants(parsed: &ParsedCsv) -> Result<(), TestCaseError> {
        let last = parsed.total_rows + parsed.skipped_rows + 1;
        let mut bad_rows: Vec<usize> = parsed.problems.iter().map(|p| p.row).collect();
        bad_rows.dedup();
        for row in parsed
            .rows
            .iter()
            .map(|r| r.row)
            .chain(bad_rows.iter().copied())
        {
            prop_assert!((2..=last).contains(&row), "row {row} outside 2..={last}");
        }
        prop_assert!(
            parsed
                .problems
                .iter()
                .all(|p| PROBLEM_CODES.contains(&p.code))
        );
        prop_assert_eq!(parsed.rows.len() + bad_rows.len(), parsed.total_rows);
        Ok(())
    }

    /// Text made of the pieces that trouble CSV readers.
    fn tricky_text() -> impl Strategy<Value = String> {
        #[rustfmt::skip]
        let pieces = [
            ";", ",", "\t", "\"", "\r", "\n", "\r\n", " ", "a", "Ø", "x", "1", "NO", "-", "=", "'",
            "31.02.2026", "2026-11-23", "Laptop", "sep=;\n", "\u{feff}",
        ];
        let pieces = prop::sample::select(pieces.to_vec());
        prop::collection::vec(pieces, 0..60).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(parsed) = parse(&bytes, &schema(), &Limits::default()) {
                check_invariants(&parsed)?;
            }
        }

        #[test]
        fn tricky_text_under_a_good_header_never_panics(
            header in prop::sample::select(vec!["Name;RAM;Active;Type", "Name,Bought", "name\tram"]),
            body in tricky_text(),
            utf16 in any::<bool>(),
        ) {
            let file = format!("{header}\n{body}");
            let bytes: Vec<u8> = match utf16 {
                true => [0xFF, 0xFE].into_iter().chain(file.encode_utf16().flat_map(u16::to_le_bytes)).collect(),
                false => file.into_bytes(),
            };
            if let Ok(parsed) = parse(&bytes, &schema(), &Limits::default()) {
                check_invariants(&parsed)?;
            }
        }

        #[test]
        fn to_csv_round_trips_trimmed_text(cells in prop::collection::vec(tricky_text(), 1..8)) {
            let cells: Vec<String> = cells.iter().map(|c| c.replace('\u{feff}', "").trim().into()).collect();
            let schema = ImportSchema {
                columns: vec![
                    ColumnSpec::new("Id", Integer { min: 0, max: 100 }, true),
                    ColumnSpec::new("Cell", Text { max_chars: 10_000 }, false),
                ],
            };
            let rows = cells.iter().enumerate().map(|(i, c)| vec![i.to_string(), c.clone()]);
            let csv = to_csv(&["Id".to_string(), "Cell".to_string()], rows);
            let parsed = parse(csv.as_bytes(), &schema, &Limits::default()).unwrap();
            prop_assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
            prop_assert_eq!(parsed.rows.len(), cells.len());
            for (row, cell) in parsed.rows.iter().zip(&cells) {
                let expected = match cell.is_empty() {
                    true => CellValue::Empty,
                    false => CellValue::Text(cell.clone()),
                };
                prop_assert_eq!(row.values.get("Cell"), Some(&expected));
            }
        }
    }
}
