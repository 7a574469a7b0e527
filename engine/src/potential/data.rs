//! The decoded potential data file, written by `engine/data/generate.py` in two formats from the same
//! facts: `engine/data/potential.tsv` (format 1, text) and `engine/data/potential.bin` (format 2, compact).
//!
//! The engine never reads files: the caller hands the bytes to [`Data::decode`] (the CLI and the Worker
//! compile them in, the browser fetches them as a static asset), which reads either format (the first
//! line says which). Decoding checks the whole file: format version, that every reference points at
//! something defined earlier, no duplicate keys, and the `end` record's counts (a truncated download fails
//! instead of giving a partial table set). Both formats go through the same validating record adders.
//!
//! Format 1 (UTF-8, one record per line, fields separated by tabs; see engine/data/README.md):
//! `PVE-POTENTIAL 1`, `version`, then `source`, `part`, `cube`, `limit`, `tierup`, `cost`, `sumoff`,
//! `s` (option strings), `t` (slot tables: `option:probability[*]` separated by spaces, `*` marks a prime
//! row), `band` (cube, grade, part, level range, source, three table ids) and `end`.
//!
//! Format 2: the same two text header lines (`PVE-POTENTIAL 2`, `version`, so [`Data::peek_version`]
//! reads both formats alike), then the same records in binary: LEB128 varints, length-prefixed UTF-8,
//! probabilities as decimals `m / 10^k` (exact: the same `f64` as parsing the text), the slot tables
//! interned as (option sequence, probability vector) pairs, and the bands column by column. The version
//! line is the text file's, so the same facts carry the same version in both formats.

use super::line::{parse_line, ParsedLine};
use super::Grade;
use core::fmt;

/// The newest data format this decoder reads (the compact binary one); it also reads [`TEXT_FORMAT`].
pub const FORMAT_VERSION: u32 = 2;
/// The text format (`engine/data/potential.tsv`).
pub const TEXT_FORMAT: u32 = 1;

/// Failure to decode a data file. Line numbers are 1-based; in the binary format a `line` is the record's
/// position (1-based, counting the two header lines), and [`DataError::Binary`] names a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataError {
    NotUtf8,
    /// The first line is not `PVE-POTENTIAL <format>`.
    BadMagic,
    UnsupportedFormat {
        found: u32,
        supported: u32,
    },
    Malformed {
        line: usize,
        what: &'static str,
    },
    Duplicate {
        line: usize,
        what: &'static str,
    },
    UnknownReference {
        line: usize,
        what: &'static str,
    },
    /// No `end` record, records after it, or counts that disagree with it.
    Truncated,
    /// Format 2: bytes that are not a valid encoding (an overlong varint, an index out of range).
    Binary {
        offset: usize,
        what: &'static str,
    },
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::NotUtf8 => write!(f, "potential data is not UTF-8"),
            DataError::BadMagic => write!(f, "not a potential data file (first line must be PVE-POTENTIAL)"),
            DataError::UnsupportedFormat { found, supported } => {
                write!(
                    f,
                    "potential data format {found} is not supported (this engine reads {supported})"
                )
            }
            DataError::Malformed { line, what } => write!(f, "potential data line {line}: malformed {what}"),
            DataError::Duplicate { line, what } => write!(f, "potential data line {line}: duplicate {what}"),
            DataError::UnknownReference { line, what } => {
                write!(f, "potential data line {line}: unknown {what}")
            }
            DataError::Truncated => write!(f, "potential data is truncated or its end record disagrees"),
            DataError::Binary { offset, what } => {
                write!(f, "potential data byte {offset}: invalid {what}")
            }
        }
    }
}

impl std::error::Error for DataError {}

/// Which potential a cube rerolls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PotentialKind {
    Main,
    Additional,
}

/// How an attempt is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payment {
    /// A consumable item (cash or in-game cube): we count cubes; no price data exists.
    Item,
    /// Mesos, priced by the `cost` records for this cube's name.
    Meso,
}

/// Tier-up from one grade to the next with one cube.
#[derive(Debug, Clone, PartialEq)]
pub struct TierUp {
    pub rate: f64,
    /// Attempts at this grade after which the tier-up is guaranteed (see `super::chain` for the semantics).
    pub pity: Option<u32>,
    /// A caveat recorded with the data (e.g. a single-source pity count).
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CubeInfo {
    pub name: String,
    /// The cube whose line tables this cube uses (e.g. `meso_reset_main` uses `black`).
    pub lines: String,
    pub potential: PotentialKind,
    pub payment: Payment,
    pub label: String,
    /// An assumption or single-source warning recorded with the data.
    pub note: Option<String>,
    /// `tier_up[g]`: from grade `g` to the next; `None` where this cube cannot tier up.
    pub tier_up: [Option<TierUp>; 3],
}

impl CubeInfo {
    /// The highest grade this cube can reach (and be used at): the last grade reached by a tier-up chain
    /// starting from 레어.
    pub fn max_grade(&self) -> Grade {
        let mut g = Grade::Rare;
        while let (Some(_), Some(next)) = (self.tier_up_from(g), g.next()) {
            g = next;
        }
        g
    }

    /// The tier-up from `grade` to the next grade, if this cube has one.
    pub fn tier_up_from(&self, grade: Grade) -> Option<&TierUp> {
        self.tier_up.get(grade.index())?.as_ref()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LimitRule {
    pub name: String,
    pub max: u8,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OptionInfo {
    pub text: String,
    pub parsed: ParsedLine,
    /// Index into [`Data::limits`] when this option's count per item is limited.
    pub limit: Option<u8>,
}

/// One row of a slot table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// Index into [`Data::options`].
    pub option: u32,
    pub probability: f64,
    /// The row is of the item's own grade (prime) rather than one grade lower.
    pub prime: bool,
}

/// The three slot tables of one (line cube, grade, part, level band).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    /// Index into [`Data::line_cubes`].
    pub line_cube: u8,
    pub grade: Grade,
    /// Index into [`Data::parts`].
    pub part: u8,
    pub level_min: u32,
    pub level_max: u32,
    /// Index into [`Data::sources`].
    pub source: u16,
    /// Table ids (index into [`Data::tables`]) for slots 1, 2, 3.
    pub slots: [u32; 3],
}

/// Meso price of one reset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostRow {
    pub reset: String,
    pub level_min: u32,
    pub level_max: u32,
    pub grade: Grade,
    pub meso: u64,
    /// `current`, `superseded` or `conflicting` (only `current` is used).
    pub status: String,
}

/// A published table that does not sum to 1 (kept as published, never renormalised).
#[derive(Debug, Clone, PartialEq)]
pub struct SumOff {
    pub line_cube: u8,
    pub grade: Grade,
    pub part: u8,
    pub level_min: u32,
    pub level_max: u32,
    /// 1, 2 or 3.
    pub slot: u8,
    pub sum: f64,
}

/// All potential facts the engine uses, decoded and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    version: String,
    sources: Vec<String>,
    parts: Vec<String>,
    cubes: Vec<CubeInfo>,
    line_cubes: Vec<String>,
    limits: Vec<LimitRule>,
    costs: Vec<CostRow>,
    sum_off: Vec<SumOff>,
    options: Vec<OptionInfo>,
    tables: Vec<Vec<Row>>,
    bands: Vec<Band>,
}

impl Data {
    /// Decode and validate a data file.
    ///
    /// # Errors
    /// [`DataError`] naming the first offending line.
    pub fn decode(bytes: &[u8]) -> Result<Data, DataError> {
        if bytes.starts_with(b"PVE-POTENTIAL\t2\n") {
            return Decoder::default().run_binary(bytes);
        }
        let text = core::str::from_utf8(bytes).map_err(|_| DataError::NotUtf8)?;
        Decoder::default().run_text(text)
    }

    /// The version line of a data file (either format), read without decoding the rest (to skip
    /// re-installing the same file). Only [`Data::decode`] validates a file.
    ///
    /// # Errors
    /// [`DataError`] if the first two lines are not a supported header and a version.
    pub fn peek_version(bytes: &[u8]) -> Result<&str, DataError> {
        let head = &bytes[..bytes.len().min(4096)];
        let head = match core::str::from_utf8(head) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&head[..e.valid_up_to()]).map_err(|_| DataError::NotUtf8)?,
        };
        let mut lines = head.split('\n');
        let format = lines
            .next()
            .and_then(|l| l.strip_prefix("PVE-POTENTIAL\t"))
            .ok_or(DataError::BadMagic)?;
        let format: u32 = uint(format, 1, "format version")?;
        if format != FORMAT_VERSION && format != TEXT_FORMAT {
            return Err(DataError::UnsupportedFormat {
                found: format,
                supported: FORMAT_VERSION,
            });
        }
        lines
            .next()
            .and_then(|l| l.strip_prefix("version\t"))
            .filter(|v| !v.is_empty() && !v.contains('\t'))
            .ok_or(DataError::Malformed {
                line: 2,
                what: "version record",
            })
    }

    /// `kms-potential-<date>-<content hash>`: part of every response that uses this data.
    pub fn version(&self) -> &str {
        &self.version
    }
    pub fn sources(&self) -> &[String] {
        &self.sources
    }
    pub fn parts(&self) -> &[String] {
        &self.parts
    }
    pub fn cubes(&self) -> &[CubeInfo] {
        &self.cubes
    }
    pub fn line_cubes(&self) -> &[String] {
        &self.line_cubes
    }
    pub fn limits(&self) -> &[LimitRule] {
        &self.limits
    }
    pub fn costs(&self) -> &[CostRow] {
        &self.costs
    }
    pub fn sum_off(&self) -> &[SumOff] {
        &self.sum_off
    }
    pub fn options(&self) -> &[OptionInfo] {
        &self.options
    }
    pub fn tables(&self) -> &[Vec<Row>] {
        &self.tables
    }
    /// Sorted by (line cube, grade, part, level_min).
    pub fn bands(&self) -> &[Band] {
        &self.bands
    }

    pub fn cube(&self, name: &str) -> Option<&CubeInfo> {
        self.cubes.iter().find(|c| c.name == name)
    }
    pub fn part_index(&self, name: &str) -> Option<u8> {
        self.parts.iter().position(|p| p == name).map(|i| i as u8)
    }
    pub fn line_cube_index(&self, name: &str) -> Option<u8> {
        self.line_cubes.iter().position(|p| p == name).map(|i| i as u8)
    }

    /// All bands of one (line cube, grade, part), in level order.
    pub fn bands_of(&self, line_cube: u8, grade: Grade, part: u8) -> &[Band] {
        let key = |b: &Band| (b.line_cube, b.grade, b.part);
        let lo = self.bands.partition_point(|b| key(b) < (line_cube, grade, part));
        let hi = self.bands.partition_point(|b| key(b) <= (line_cube, grade, part));
        &self.bands[lo..hi]
    }

    /// The band whose level range contains `level`.
    pub fn band_for(&self, line_cube: u8, grade: Grade, part: u8, level: u32) -> Option<&Band> {
        self.bands_of(line_cube, grade, part)
            .iter()
            .find(|b| b.level_min <= level && level <= b.level_max)
    }

    /// The recorded sum of a published table that does not sum to 1, if this one is such a table.
    pub fn sum_off_for(&self, band: &Band, slot: u8) -> Option<f64> {
        self.sum_off
            .iter()
            .find(|s| {
                (s.line_cube, s.grade, s.part, s.level_min, s.level_max, s.slot)
                    == (
                        band.line_cube,
                        band.grade,
                        band.part,
                        band.level_min,
                        band.level_max,
                        slot,
                    )
            })
            .map(|s| s.sum)
    }

    /// The current meso price of one reset of `reset` (a cube name) at `grade` for an item of `level`.
    pub fn meso_cost(&self, reset: &str, grade: Grade, level: u32) -> Option<u64> {
        self.costs
            .iter()
            .find(|c| {
                c.status == "current"
                    && c.reset == reset
                    && c.grade == grade
                    && c.level_min <= level
                    && level <= c.level_max
            })
            .map(|c| c.meso)
    }
}

#[derive(Default)]
struct Decoder {
    version: Option<String>,
    sources: Vec<String>,
    parts: Vec<String>,
    cubes: Vec<CubeInfo>,
    line_cubes: Vec<String>,
    limits: Vec<LimitRule>,
    costs: Vec<CostRow>,
    sum_off: Vec<SumOff>,
    options: Vec<OptionInfo>,
    tables: Vec<Vec<Row>>,
    bands: Vec<Band>,
    ended: bool,
}

fn malformed(line: usize, what: &'static str) -> DataError {
    DataError::Malformed { line, what }
}
fn unknown(line: usize, what: &'static str) -> DataError {
    DataError::UnknownReference { line, what }
}
fn duplicate(line: usize, what: &'static str) -> DataError {
    DataError::Duplicate { line, what }
}

fn uint<T: core::str::FromStr>(s: &str, line: usize, what: &'static str) -> Result<T, DataError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(line, what));
    }
    s.parse().map_err(|_| malformed(line, what))
}

/// A probability must be in (0, 1].
fn check_prob(p: f64, line: usize) -> Result<f64, DataError> {
    if p > 0.0 && p <= 1.0 {
        Ok(p)
    } else {
        Err(malformed(line, "probability"))
    }
}

/// A decimal probability in (0, 1]. Rust's float parsing is correctly rounded and platform-independent.
fn prob(s: &str, line: usize) -> Result<f64, DataError> {
    let ok =
        s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && s.bytes().filter(|&b| b == b'.').count() <= 1;
    let p: f64 = if ok {
        s.parse().map_err(|_| malformed(line, "probability"))?
    } else {
        f64::NAN
    };
    check_prob(p, line)
}

fn grade(s: &str, line: usize) -> Result<Grade, DataError> {
    Grade::from_korean(s).ok_or_else(|| unknown(line, "grade"))
}

fn note(s: &str) -> Option<String> {
    (s != "-").then(|| s.to_string())
}

/// The records of a data file, validated as they are added (in file order: a record may only refer to
/// what came before it). Both formats decode through these, so they check exactly the same rules.
impl Decoder {
    fn finish(self) -> Result<Data, DataError> {
        if !self.ended {
            return Err(DataError::Truncated);
        }
        let version = self.version.ok_or(DataError::Truncated)?;
        Ok(Data {
            version,
            sources: self.sources,
            parts: self.parts,
            cubes: self.cubes,
            line_cubes: self.line_cubes,
            limits: self.limits,
            costs: self.costs,
            sum_off: self.sum_off,
            options: self.options,
            tables: self.tables,
            bands: self.bands,
        })
    }

    fn add_version(&mut self, n: usize, v: &str) -> Result<(), DataError> {
        if self.version.is_some() {
            return Err(duplicate(n, "version"));
        }
        if v.is_empty() {
            return Err(malformed(n, "version"));
        }
        self.version = Some(v.to_string());
        Ok(())
    }

    fn add_source(&mut self, n: usize, id: usize, s: &str) -> Result<(), DataError> {
        if id != self.sources.len() {
            return Err(malformed(n, "source id (ids must count up from 0)"));
        }
        self.sources.push(s.to_string());
        Ok(())
    }

    fn add_part(&mut self, n: usize, name: &str) -> Result<(), DataError> {
        if self.parts.iter().any(|p| p == name) {
            return Err(duplicate(n, "part"));
        }
        if self.parts.len() >= u8::MAX as usize {
            return Err(malformed(n, "part count"));
        }
        self.parts.push(name.to_string());
        Ok(())
    }

    fn add_cube(&mut self, n: usize, cube: CubeInfo) -> Result<(), DataError> {
        if self.cubes.iter().any(|c| c.name == cube.name) {
            return Err(duplicate(n, "cube"));
        }
        if !self.line_cubes.contains(&cube.lines) {
            if self.line_cubes.len() >= u8::MAX as usize {
                return Err(malformed(n, "line cube count"));
            }
            self.line_cubes.push(cube.lines.clone());
        }
        self.cubes.push(cube);
        Ok(())
    }

    fn add_limit(&mut self, n: usize, limit: LimitRule) -> Result<(), DataError> {
        if self.limits.iter().any(|l| l.name == limit.name) {
            return Err(duplicate(n, "limit"));
        }
        if !(1..=2).contains(&limit.max) || self.limits.len() >= 16 {
            return Err(malformed(n, "limit"));
        }
        self.limits.push(limit);
        Ok(())
    }

    fn cube_index(&self, n: usize, name: &str) -> Result<usize, DataError> {
        self.cubes
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| unknown(n, "cube"))
    }

    fn add_tier_up(
        &mut self,
        n: usize,
        cube: usize,
        (from, to): (Grade, Grade),
        tier_up: TierUp,
    ) -> Result<(), DataError> {
        if from.next() != Some(to) {
            return Err(malformed(n, "tier-up (must go one grade up)"));
        }
        if tier_up.pity == Some(0) {
            return Err(malformed(n, "pity"));
        }
        let slot = &mut self
            .cubes
            .get_mut(cube)
            .ok_or_else(|| unknown(n, "cube"))?
            .tier_up[from.index()];
        if slot.is_some() {
            return Err(duplicate(n, "tier-up"));
        }
        *slot = Some(tier_up);
        Ok(())
    }

    fn add_cost(&mut self, n: usize, row: CostRow) -> Result<(), DataError> {
        if !self
            .cubes
            .iter()
            .any(|c| c.name == row.reset && c.payment == Payment::Meso)
        {
            return Err(unknown(n, "meso reset"));
        }
        if !matches!(row.status.as_str(), "current" | "superseded" | "conflicting")
            || row.level_min > row.level_max
        {
            return Err(malformed(n, "cost"));
        }
        let overlaps = |c: &CostRow| {
            c.status == "current"
                && row.status == "current"
                && c.reset == row.reset
                && c.grade == row.grade
                && c.level_min <= row.level_max
                && row.level_min <= c.level_max
        };
        if self.costs.iter().any(overlaps) {
            return Err(duplicate(n, "current cost for this level"));
        }
        self.costs.push(row);
        Ok(())
    }

    fn add_sum_off(&mut self, n: usize, s: SumOff) -> Result<(), DataError> {
        if s.line_cube as usize >= self.line_cubes.len() {
            return Err(unknown(n, "line cube"));
        }
        if s.part as usize >= self.parts.len() {
            return Err(unknown(n, "part"));
        }
        if !(1..=3).contains(&s.slot) {
            return Err(malformed(n, "slot"));
        }
        self.sum_off.push(s);
        Ok(())
    }

    fn add_option(&mut self, n: usize, limit: Option<usize>, text: &str) -> Result<(), DataError> {
        if limit.is_some_and(|l| l >= self.limits.len()) {
            return Err(unknown(n, "limit"));
        }
        if self.options.last().is_some_and(|o| o.text.as_str() >= text) {
            return Err(duplicate(n, "option string (strings must be sorted and unique)"));
        }
        self.options.push(OptionInfo {
            text: text.to_string(),
            parsed: parse_line(text),
            limit: limit.map(|l| l as u8),
        });
        Ok(())
    }

    fn add_table(&mut self, n: usize, rows: Vec<Row>) -> Result<(), DataError> {
        if rows.is_empty() {
            return Err(malformed(n, "table row"));
        }
        if rows.iter().any(|r| r.option as usize >= self.options.len()) {
            return Err(unknown(n, "option id"));
        }
        self.tables.push(rows);
        Ok(())
    }

    fn add_band(&mut self, n: usize, band: Band) -> Result<(), DataError> {
        if band.slots.iter().any(|&t| t as usize >= self.tables.len()) {
            return Err(unknown(n, "table id"));
        }
        if band.source as usize >= self.sources.len() {
            return Err(unknown(n, "source id"));
        }
        if band.line_cube as usize >= self.line_cubes.len() {
            return Err(unknown(n, "line cube"));
        }
        if band.part as usize >= self.parts.len() {
            return Err(unknown(n, "part"));
        }
        if band.level_min > band.level_max {
            return Err(malformed(n, "level range"));
        }
        // Sorted by (cube, grade, part, level) and non-overlapping: a level selects at most one band.
        if let Some(prev) = self.bands.last() {
            let same = (prev.line_cube, prev.grade, prev.part) == (band.line_cube, band.grade, band.part);
            let order = (prev.line_cube, prev.grade, prev.part) < (band.line_cube, band.grade, band.part);
            if !(order || same && prev.level_max < band.level_min) {
                return Err(duplicate(n, "band (bands must be sorted and must not overlap)"));
            }
        }
        self.bands.push(band);
        Ok(())
    }

    fn add_end(&mut self, counts: [usize; 3]) -> Result<(), DataError> {
        if counts != [self.options.len(), self.tables.len(), self.bands.len()] {
            return Err(DataError::Truncated);
        }
        self.ended = true;
        Ok(())
    }

    fn part_ref(&self, name: &str, n: usize) -> Result<u8, DataError> {
        self.parts
            .iter()
            .position(|p| p == name)
            .map(|i| i as u8)
            .ok_or_else(|| unknown(n, "part"))
    }
    fn line_cube_ref(&self, name: &str, n: usize) -> Result<u8, DataError> {
        self.line_cubes
            .iter()
            .position(|p| p == name)
            .map(|i| i as u8)
            .ok_or_else(|| unknown(n, "line cube"))
    }
}

/// Format 1: the text file, one record per line.
impl Decoder {
    fn run_text(mut self, text: &str) -> Result<Data, DataError> {
        let mut lines = text.split_terminator('\n').enumerate().map(|(i, l)| (i + 1, l));
        let (_, first) = lines.next().ok_or(DataError::BadMagic)?;
        let format = first.strip_prefix("PVE-POTENTIAL\t").ok_or(DataError::BadMagic)?;
        let format: u32 = uint(format, 1, "format version")?;
        if format != TEXT_FORMAT {
            return Err(DataError::UnsupportedFormat {
                found: format,
                supported: FORMAT_VERSION,
            });
        }
        for (n, line) in lines {
            if self.ended {
                return Err(DataError::Truncated);
            }
            let fields: Vec<&str> = line.split('\t').collect();
            self.record(n, &fields)?;
        }
        self.finish()
    }

    fn record(&mut self, n: usize, f: &[&str]) -> Result<(), DataError> {
        let arity = |k: usize, what| {
            if f.len() == k {
                Ok(())
            } else {
                Err(malformed(n, what))
            }
        };
        match f[0] {
            "version" => {
                arity(2, "version record")?;
                self.add_version(n, f[1])?;
            }
            "source" => {
                arity(3, "source record")?;
                self.add_source(n, uint(f[1], n, "source id")?, f[2])?;
            }
            "part" => {
                arity(2, "part record")?;
                self.add_part(n, f[1])?;
            }
            "cube" => {
                arity(7, "cube record")?;
                let potential = match f[3] {
                    "main" => PotentialKind::Main,
                    "additional" => PotentialKind::Additional,
                    _ => return Err(malformed(n, "potential kind")),
                };
                let payment = match f[4] {
                    "item" => Payment::Item,
                    "meso" => Payment::Meso,
                    _ => return Err(malformed(n, "payment")),
                };
                self.add_cube(
                    n,
                    CubeInfo {
                        name: f[1].to_string(),
                        lines: f[2].to_string(),
                        potential,
                        payment,
                        label: f[5].to_string(),
                        note: note(f[6]),
                        tier_up: [None, None, None],
                    },
                )?;
            }
            "limit" => {
                arity(4, "limit record")?;
                let limit = LimitRule {
                    name: f[1].to_string(),
                    max: uint(f[2], n, "limit max")?,
                    note: f[3].to_string(),
                };
                self.add_limit(n, limit)?;
            }
            "tierup" => {
                arity(7, "tierup record")?;
                let grades = (grade(f[2], n)?, grade(f[3], n)?);
                let rate = prob(f[4], n)?;
                let pity = match f[5] {
                    "-" => None,
                    s => Some(uint::<u32>(s, n, "pity")?),
                };
                let cube = self.cube_index(n, f[1])?;
                let tier_up = TierUp {
                    rate,
                    pity,
                    note: note(f[6]),
                };
                self.add_tier_up(n, cube, grades, tier_up)?;
            }
            "cost" => {
                arity(7, "cost record")?;
                let row = CostRow {
                    reset: f[1].to_string(),
                    level_min: uint(f[2], n, "level")?,
                    level_max: uint(f[3], n, "level")?,
                    grade: grade(f[4], n)?,
                    meso: uint(f[5], n, "meso cost")?,
                    status: f[6].to_string(),
                };
                self.add_cost(n, row)?;
            }
            "sumoff" => {
                arity(8, "sumoff record")?;
                let s = SumOff {
                    line_cube: self.line_cube_ref(f[1], n)?,
                    grade: grade(f[2], n)?,
                    part: self.part_ref(f[3], n)?,
                    level_min: uint(f[4], n, "level")?,
                    level_max: uint(f[5], n, "level")?,
                    slot: uint(f[6], n, "slot")?,
                    sum: f[7].parse().map_err(|_| malformed(n, "sum"))?,
                };
                self.add_sum_off(n, s)?;
            }
            "s" => {
                arity(3, "option record")?;
                let limit = match f[1] {
                    "-" => None,
                    name => Some(
                        self.limits
                            .iter()
                            .position(|l| l.name == name)
                            .ok_or_else(|| unknown(n, "limit"))?,
                    ),
                };
                self.add_option(n, limit, f[2])?;
            }
            "t" => {
                arity(2, "table record")?;
                let mut rows = Vec::new();
                for cell in f[1].split(' ') {
                    let (cell, prime) = match cell.strip_suffix('*') {
                        Some(c) => (c, true),
                        None => (cell, false),
                    };
                    let (opt, p) = cell.split_once(':').ok_or_else(|| malformed(n, "table row"))?;
                    let option: u32 = uint(opt, n, "option id")?;
                    if option as usize >= self.options.len() {
                        return Err(unknown(n, "option id"));
                    }
                    rows.push(Row {
                        option,
                        probability: prob(p, n)?,
                        prime,
                    });
                }
                self.add_table(n, rows)?;
            }
            "band" => {
                arity(10, "band record")?;
                let mut slots = [0u32; 3];
                for (slot, id) in slots.iter_mut().zip(&f[7..10]) {
                    *slot = uint(id, n, "table id")?;
                    if *slot as usize >= self.tables.len() {
                        return Err(unknown(n, "table id"));
                    }
                }
                let source: u16 = uint(f[6], n, "source id")?;
                if source as usize >= self.sources.len() {
                    return Err(unknown(n, "source id"));
                }
                let band = Band {
                    line_cube: self.line_cube_ref(f[1], n)?,
                    grade: grade(f[2], n)?,
                    part: self.part_ref(f[3], n)?,
                    level_min: uint(f[4], n, "level")?,
                    level_max: uint(f[5], n, "level")?,
                    source,
                    slots,
                };
                self.add_band(n, band)?;
            }
            "end" => {
                arity(4, "end record")?;
                self.add_end([
                    uint(f[1], n, "count")?,
                    uint(f[2], n, "count")?,
                    uint(f[3], n, "count")?,
                ])?;
            }
            _ => return Err(malformed(n, "record tag")),
        }
        Ok(())
    }
}

/// `10^k` for `k = 0..=22`: every one exact in an `f64`, so `m / 10^k` (with `m < 2^53`, also exact) is
/// one correctly rounded division, the same `f64` as parsing the decimal text.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];

/// Format 2's body: LEB128 varints, length-prefixed strings and decimals, read front to back.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Records read so far, counting the two header lines: the `line` of an error.
    record: usize,
}

impl<'a> Reader<'a> {
    fn binary(&self, what: &'static str) -> DataError {
        DataError::Binary {
            offset: self.pos,
            what,
        }
    }

    fn next_record(&mut self) -> usize {
        self.record += 1;
        self.record
    }

    fn varint(&mut self) -> Result<u64, DataError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.pos).ok_or(DataError::Truncated)?;
            self.pos += 1;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(self.binary("varint overflows 64 bits"));
            }
            v |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.binary("varint longer than 10 bytes"))
    }

    /// A varint that must be below `bound` (a count, an index, a small enum).
    fn index(&mut self, bound: usize, what: &'static str) -> Result<usize, DataError> {
        let v = self.varint()?;
        if v < bound as u64 {
            Ok(v as usize)
        } else {
            Err(self.binary(what))
        }
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, DataError> {
        u32::try_from(self.varint()?).map_err(|_| self.binary(what))
    }

    /// A count of items that take at least one byte each (so a corrupt count cannot allocate more than
    /// the file's size).
    fn count(&mut self) -> Result<usize, DataError> {
        let v = self.varint()?;
        if v <= (self.bytes.len() - self.pos) as u64 {
            Ok(v as usize)
        } else {
            Err(DataError::Truncated)
        }
    }

    fn str(&mut self) -> Result<&'a str, DataError> {
        let len = self.count()?;
        let bytes = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        core::str::from_utf8(bytes).map_err(|_| DataError::NotUtf8)
    }

    /// `0` for none, else the string's length + 1 and the string.
    fn opt_str(&mut self) -> Result<Option<&'a str>, DataError> {
        if self.bytes.get(self.pos) == Some(&0) {
            self.pos += 1;
            return Ok(None);
        }
        let len = self.count()?;
        let bytes = self
            .bytes
            .get(self.pos..self.pos + len - 1)
            .ok_or(DataError::Truncated)?;
        self.pos += len - 1;
        core::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| DataError::NotUtf8)
    }

    /// A decimal `m / 10^k`: places `k` (at most 22) and digits `m` (below 2^53).
    fn decimal(&mut self) -> Result<f64, DataError> {
        let k = self.index(POW10.len(), "decimal places")?;
        let m = self.varint()?;
        if m >= 1 << 53 {
            return Err(self.binary("decimal digits"));
        }
        Ok(m as f64 / POW10[k])
    }

    fn grade(&mut self) -> Result<Grade, DataError> {
        Ok(Grade::ALL[self.index(Grade::ALL.len(), "grade")?])
    }
}

/// Format 2: the same records, binary (see engine/data/README.md). Strings are interned (option strings,
/// probabilities, the distinct option sequences and probability vectors of the slot tables) and the bands
/// are stored column by column, which is what makes it small after gzip.
impl Decoder {
    fn run_binary(mut self, bytes: &[u8]) -> Result<Data, DataError> {
        let version = Data::peek_version(bytes)?;
        let body = bytes
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .nth(1)
            .map(|(i, _)| i + 1)
            .ok_or(DataError::Truncated)?;
        self.add_version(2, version)?;
        let mut r = Reader {
            bytes,
            pos: body,
            record: 2,
        };
        for _ in 0..r.count()? {
            let n = r.next_record();
            let s = r.str()?;
            self.add_source(n, self.sources.len(), s)?;
        }
        for _ in 0..r.count()? {
            let n = r.next_record();
            let s = r.str()?;
            self.add_part(n, s)?;
        }
        for _ in 0..r.count()? {
            let n = r.next_record();
            let name = r.str()?.to_string();
            let lines = r.str()?.to_string();
            let potential = [PotentialKind::Main, PotentialKind::Additional][r.index(2, "potential kind")?];
            let payment = [Payment::Item, Payment::Meso][r.index(2, "payment")?];
            let label = r.str()?.to_string();
            let note = r.opt_str()?.map(str::to_string);
            let cube = CubeInfo {
                name,
                lines,
                potential,
                payment,
                label,
                note,
                tier_up: [None, None, None],
            };
            self.add_cube(n, cube)?;
        }
        for _ in 0..r.count()? {
            let n = r.next_record();
            let name = r.str()?.to_string();
            let max = r.index(256, "limit max")? as u8;
            let note = r.str()?.to_string();
            self.add_limit(n, LimitRule { name, max, note })?;
        }
        for _ in 0..r.count()? {
            let n = r.next_record();
            let cube = r.index(self.cubes.len(), "cube")?;
            let from = r.grade()?;
            let to = from
                .next()
                .ok_or_else(|| malformed(n, "tier-up (must go one grade up)"))?;
            let rate = check_prob(r.decimal()?, n)?;
            let pity = match r.u32("pity")? {
                0 => None,
                p => Some(p),
            };
            let note = r.opt_str()?.map(str::to_string);
            self.add_tier_up(n, cube, (from, to), TierUp { rate, pity, note })?;
        }
        for _ in 0..r.count()? {
            let n = r.next_record();
            let reset = self.cubes[r.index(self.cubes.len(), "cube")?].name.clone();
            let row = CostRow {
                reset,
                level_min: r.u32("level")?,
                level_max: r.u32("level")?,
                grade: r.grade()?,
                meso: r.varint()?,
                status: ["current", "superseded", "conflicting"][r.index(3, "cost status")?].to_string(),
            };
            self.add_cost(n, row)?;
        }
        for _ in 0..r.count()? {
            let n = r.next_record();
            let s = SumOff {
                line_cube: r.index(256, "line cube")? as u8,
                grade: r.grade()?,
                part: r.index(256, "part")? as u8,
                level_min: r.u32("level")?,
                level_max: r.u32("level")?,
                slot: r.index(256, "slot")? as u8,
                sum: r.decimal()?,
            };
            self.add_sum_off(n, s)?;
        }
        for _ in 0..r.count()? {
            let n = r.next_record();
            let limit = match r.index(self.limits.len() + 1, "limit")? {
                0 => None,
                l => Some(l - 1),
            };
            let text = r.str()?;
            self.add_option(n, limit, text)?;
        }
        // The interned probabilities, option sequences and probability vectors of the slot tables.
        let n = r.next_record();
        let mut probabilities = Vec::new();
        for _ in 0..r.count()? {
            probabilities.push(check_prob(r.decimal()?, n)?);
        }
        let mut sequences: Vec<Vec<(u32, bool)>> = Vec::new();
        for _ in 0..r.count()? {
            let len = r.count()?;
            let mut seq = Vec::with_capacity(len);
            for _ in 0..len {
                let v = r.index(self.options.len() << 1, "option id")?;
                seq.push(((v >> 1) as u32, v & 1 == 1));
            }
            sequences.push(seq);
        }
        let mut vectors: Vec<Vec<f64>> = Vec::new();
        for _ in 0..r.count()? {
            let len = r.count()?;
            let mut vec = Vec::with_capacity(len);
            for _ in 0..len {
                vec.push(probabilities[r.index(probabilities.len(), "probability id")?]);
            }
            vectors.push(vec);
        }
        for _ in 0..r.count()? {
            let n = r.next_record();
            let seq = &sequences[r.index(sequences.len(), "option sequence id")?];
            let vec = &vectors[r.index(vectors.len(), "probability vector id")?];
            if seq.len() != vec.len() {
                return Err(malformed(n, "table (sequence and vector lengths differ)"));
            }
            let rows = seq
                .iter()
                .zip(vec)
                .map(|(&(option, prime), &probability)| Row {
                    option,
                    probability,
                    prime,
                })
                .collect();
            self.add_table(n, rows)?;
        }
        // Bands, column by column.
        let count = r.count()?;
        let mut cols = [const { Vec::new() }; 9];
        for col in cols.iter_mut() {
            col.reserve(count);
            for _ in 0..count {
                col.push(r.u32("band field")?);
            }
        }
        #[allow(clippy::needless_range_loop)] // row i of all nine columns
        for i in 0..count {
            let n = r.next_record();
            let field = |c: usize| cols[c][i];
            let small = |c: usize, bound: usize, what| {
                let v = field(c) as usize;
                (v < bound).then_some(v).ok_or_else(|| malformed(n, what))
            };
            let band = Band {
                line_cube: small(0, 256, "line cube")? as u8,
                grade: Grade::ALL[small(1, Grade::ALL.len(), "grade")?],
                part: small(2, 256, "part")? as u8,
                level_min: field(3),
                level_max: field(4),
                source: small(5, 1 << 16, "source id")? as u16,
                slots: [field(6), field(7), field(8)],
            };
            self.add_band(n, band)?;
        }
        let mut counts = [0; 3];
        for c in counts.iter_mut() {
            *c = usize::try_from(r.varint()?).map_err(|_| DataError::Truncated)?;
        }
        self.add_end(counts)?;
        if r.pos != bytes.len() {
            return Err(DataError::Truncated);
        }
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = "PVE-POTENTIAL\t1\nversion\tv-test\nsource\t0\tsrc\npart\t무기\n\
        cube\tblack\tblack\tmain\titem\t블랙 큐브\t-\n\
        tierup\tblack\t레어\t에픽\t0.15\t10\t-\n\
        s\t-\tINT +3%\ns\t-\tSTR +3%\n\
        t\t0:0.5* 1:0.5*\n\
        band\tblack\t레어\t무기\t0\t9\t0\t0\t0\t0\n\
        end\t2\t1\t1\n";

    fn decode(s: &str) -> Result<Data, DataError> {
        Data::decode(s.as_bytes())
    }

    #[test]
    fn decodes_a_minimal_file() {
        let d = decode(TINY).unwrap();
        assert_eq!(d.version(), "v-test");
        let t = TierUp {
            rate: 0.15,
            pity: Some(10),
            note: None,
        };
        assert_eq!(d.cube("black").unwrap().tier_up_from(Grade::Rare), Some(&t));
        assert_eq!(d.cube("black").unwrap().max_grade(), Grade::Epic);
        assert_eq!(d.band_for(0, Grade::Rare, 0, 5).unwrap().slots, [0, 0, 0]);
        assert!(d.band_for(0, Grade::Rare, 0, 10).is_none());
    }

    fn check_err(text: &str, expect: DataError) {
        assert_eq!(decode(text), Err(expect), "input {text:?}");
    }

    #[test]
    fn rejects_broken_files() {
        check_err("", DataError::BadMagic);
        check_err(
            "PVE-POTENTIAL\t3\n",
            DataError::UnsupportedFormat {
                found: 3,
                supported: 2,
            },
        );
        // truncated: drop the end record
        check_err(TINY.trim_end_matches("end\t2\t1\t1\n"), DataError::Truncated);
        check_err(
            &TINY.replace("end\t2\t1\t1", "end\t2\t1\t2"),
            DataError::Truncated,
        );
        check_err(&format!("{TINY}s\t-\tX\n"), DataError::Truncated);
        check_err(
            &TINY.replace("0:0.5* 1:0.5*", "0:0.5 7:0.5"),
            unknown(9, "option id"),
        );
        check_err(
            &TINY.replace("0:0.5* 1:0.5*", "0:0.5 1:1.5"),
            malformed(9, "probability"),
        );
        check_err(
            &TINY.replace("0:0.5* 1:0.5*", "0:0.5 1:-0.5"),
            malformed(9, "probability"),
        );
        check_err(
            &TINY.replace("0:0.5* 1:0.5*", "0:0.5 1:0"),
            malformed(9, "probability"),
        );
        check_err(
            &TINY.replace("s\t-\tSTR +3%", "s\t-\tINT +3%"),
            duplicate(8, "option string (strings must be sorted and unique)"),
        );
        check_err(
            &TINY.replace("레어\t에픽", "레어\t유니크"),
            malformed(6, "tier-up (must go one grade up)"),
        );
        check_err(
            &TINY.replace("band\tblack\t레어", "band\tred\t레어"),
            unknown(10, "line cube"),
        );
        check_err(&TINY.replace("\t-\tINT", "\tnope\tINT"), unknown(7, "limit"));
        check_err(
            &TINY.replace("version\tv-test\n", "version\tv-test\nversion\tv2\n"),
            duplicate(3, "version"),
        );
    }

    #[test]
    fn peeks_the_version_without_decoding() {
        assert_eq!(Data::peek_version(TINY.as_bytes()), Ok("v-test"));
        assert_eq!(
            Data::peek_version(b"PVE-POTENTIAL\t1\nversion\tv\ngarbage"),
            Ok("v")
        );
        assert_eq!(Data::peek_version(b"nope"), Err(DataError::BadMagic));
        assert_eq!(
            Data::peek_version(b"PVE-POTENTIAL\t3\nversion\tv\n"),
            Err(DataError::UnsupportedFormat {
                found: 3,
                supported: 2
            })
        );
        assert!(Data::peek_version(b"PVE-POTENTIAL\t1\nsource\t0\tx\n").is_err());
    }

    #[test]
    fn rejects_overlapping_bands() {
        let two = TINY.replace(
            "band\tblack\t레어\t무기\t0\t9\t0\t0\t0\t0\nend\t2\t1\t1",
            "band\tblack\t레어\t무기\t0\t9\t0\t0\t0\t0\nband\tblack\t레어\t무기\t9\t12\t0\t0\t0\t0\nend\t2\t1\t2",
        );
        check_err(
            &two,
            duplicate(11, "band (bands must be sorted and must not overlap)"),
        );
    }
}
