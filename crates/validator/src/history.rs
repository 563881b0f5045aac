//! Moving a validator to another machine without losing its slashing protection
//! (docs/operations.md, "Moving a validator"): export the signing history from the old store,
//! import it into the new one before the validator signs there.

use alloy::primitives::Address;
use zb_store::{ImportReport, SigningHistory, ValidatorStore};

use crate::{ValidatorConfig, ValidatorError};

/// The signing history of `signer` in the store of the validator configured by `config`. Safe
/// while that validator runs: it only reads.
pub fn export_history(config: &ValidatorConfig, signer: Address) -> Result<SigningHistory, ValidatorError> {
    Ok(ValidatorStore::open(&config.data_dir.join("validator.sqlite"))?.export_history(signer)?)
}

/// Merges `history` into the store of the validator configured by `config`, creating its
/// `data_dir` if needed. Every signature is checked against the store inside one transaction, so
/// this is safe even while that validator runs.
pub fn import_history(config: &ValidatorConfig, history: &SigningHistory) -> Result<ImportReport, ValidatorError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|source| ValidatorError::Io { path: config.data_dir.clone(), source })?;
    Ok(ValidatorStore::open(&config.data_dir.join("validator.sqlite"))?.import_history(history)?)
}

#[cfg(test)]
mod tests {
    use alloy::primitives::B256;

    use super::*;
    use crate::tests::{chain, config};

    #[test]
    fn history_moves_between_stores_and_forbids_a_conflicting_signature() {
        let old = tempfile::tempdir().expect("tempdir");
        let new = tempfile::tempdir().expect("tempdir");
        let old_cfg =
            ValidatorConfig { data_dir: old.path().to_owned(), ..config(vec![chain("ethereum", None)], vec![]) };
        let new_cfg = ValidatorConfig { data_dir: new.path().join("data"), ..old_cfg.clone() };
        let signer = Address::repeat_byte(7);
        let lane = B256::repeat_byte(0x11);
        {
            let store = ValidatorStore::open(&old.path().join("validator.sqlite")).expect("store");
            store.check_and_record_signing(lane, 5, B256::repeat_byte(0x22)).expect("record");
        }
        let history = export_history(&old_cfg, signer).expect("export");
        assert_eq!(history.entries.len(), 1);

        let report = import_history(&new_cfg, &history).expect("import");
        assert_eq!((report.imported, report.skipped), (1, 0));
        assert_eq!(export_history(&new_cfg, signer).expect("export").entries, history.entries);
        let moved = ValidatorStore::open(&new_cfg.data_dir.join("validator.sqlite")).expect("store");
        assert!(moved.check_and_record_signing(lane, 5, B256::repeat_byte(0x33)).is_err(), "the old signature binds");
    }
}
