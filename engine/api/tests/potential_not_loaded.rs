//! Without the `bundled-data` feature (the browser build) `potential` needs `install_potential_data` first.
//! A separate test binary: the installed data is process-wide.
use pve_api::potential::{data_version, install_potential_data};
use pve_api::{handle, ErrorCode, Operation};

#[test]
fn data_not_loaded_until_installed() {
    if cfg!(feature = "bundled-data") {
        eprintln!("SKIPPED: built with bundled-data; the data is always available");
        return;
    }
    let body =
        r#"{"cube":"black","part":"무기","level":200,"grade":"레전드리","goal":{"at_least":{"att_pct":21}}}"#;
    assert_eq!(data_version(), None);
    assert_eq!(
        handle(Operation::Potential, body).unwrap_err().code,
        ErrorCode::DataNotLoaded
    );
    // Bad requests are reported as such even before the data is loaded.
    assert_eq!(
        handle(Operation::Potential, "{").unwrap_err().code,
        ErrorCode::MalformedJson
    );
    install_potential_data(include_bytes!("../../data/potential.tsv")).unwrap();
    assert!(data_version().unwrap().starts_with("kms-potential-"));
    assert!(handle(Operation::Potential, body).is_ok());
}
