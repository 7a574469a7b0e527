//! The compact potential data file (`engine/data/potential.bin`, format 2; issue 16) holds exactly the
//! facts of the text file (`potential.tsv`, format 1): every table, row, band, string, rule and the
//! version decode to the same values, probabilities to the same bits. A cut or padded file fails.
use pve_engine::potential::{Data, DataError, FORMAT_VERSION, TEXT_FORMAT};

const TEXT: &[u8] = include_bytes!("../data/potential.tsv");
const BINARY: &[u8] = include_bytes!("../data/potential.bin");

#[test]
fn binary_decodes_to_exactly_the_text_tables() {
    let t = Data::decode(TEXT).expect("the text file decodes");
    let b = Data::decode(BINARY).expect("the binary file decodes");
    assert!(BINARY.starts_with(format!("PVE-POTENTIAL\t{FORMAT_VERSION}\n").as_bytes()));
    assert!(TEXT.starts_with(format!("PVE-POTENTIAL\t{TEXT_FORMAT}\n").as_bytes()));
    // The data version rule: the same facts, the same version.
    assert_eq!(b.version(), t.version());
    assert_eq!(Data::peek_version(BINARY), Ok(t.version()));
    assert_eq!(b.sources(), t.sources());
    assert_eq!(b.parts(), t.parts());
    assert_eq!(b.cubes(), t.cubes());
    assert_eq!(b.line_cubes(), t.line_cubes());
    assert_eq!(b.limits(), t.limits());
    assert_eq!(b.costs(), t.costs());
    assert_eq!(b.sum_off(), t.sum_off());
    assert_eq!(b.options(), t.options());
    assert_eq!(b.bands(), t.bands());
    // Every row of every table, probabilities compared bit for bit.
    assert_eq!(b.tables().len(), t.tables().len());
    let mut rows = 0;
    for (i, (bt, tt)) in b.tables().iter().zip(t.tables()).enumerate() {
        assert_eq!(bt.len(), tt.len(), "table {i}");
        for (br, tr) in bt.iter().zip(tt) {
            assert_eq!(br.option, tr.option, "table {i}");
            assert_eq!(br.prime, tr.prime, "table {i}");
            assert_eq!(br.probability.to_bits(), tr.probability.to_bits(), "table {i}");
            rows += 1;
        }
    }
    for (bc, tc) in b.cubes().iter().zip(t.cubes()) {
        for (bu, tu) in bc.tier_up.iter().zip(&tc.tier_up) {
            assert_eq!(
                bu.as_ref().map(|u| u.rate.to_bits()),
                tu.as_ref().map(|u| u.rate.to_bits())
            );
        }
    }
    for (bs, ts) in b.sum_off().iter().zip(t.sum_off()) {
        assert_eq!(bs.sum.to_bits(), ts.sum.to_bits());
    }
    assert!(rows > 60_000, "{rows} rows compared");
    // And the whole, as one value.
    assert_eq!(b, t);
}

#[test]
fn a_cut_or_padded_binary_file_fails() {
    // Every cut inside the header, and a spread of cuts through the body, up to the last byte.
    let body = BINARY.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut cuts: Vec<usize> = (0..body + 80).collect();
    cuts.extend((body..BINARY.len()).step_by(1009));
    cuts.extend(BINARY.len() - 16..BINARY.len());
    for cut in cuts {
        assert!(Data::decode(&BINARY[..cut]).is_err(), "cut at {cut} decoded");
    }
    let mut padded = BINARY.to_vec();
    padded.push(0);
    assert_eq!(Data::decode(&padded), Err(DataError::Truncated));
}

#[test]
fn corrupt_bytes_fail_or_decode_without_panicking() {
    // Flip one byte at a spread of positions: the decoder must return (an error, or a different valid file),
    // never panic or read out of bounds.
    let body = BINARY.iter().filter(|&&b| b == b'\n').count();
    assert!(body >= 2);
    for pos in (40..BINARY.len()).step_by(1999) {
        for x in [0x00, 0x7f, 0x80, 0xff] {
            let mut bytes = BINARY.to_vec();
            bytes[pos] = x;
            let _ = Data::decode(&bytes);
        }
    }
}
