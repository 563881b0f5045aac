//! The devnet's local ports: the fixed defaults, `--port-base`, and the check that they are free.

use std::net::{Ipv4Addr, TcpListener};

use eyre::{Result, bail};

use super::{FALLBACK_VALIDATORS, HOME, REMOTE, VALIDATORS};

/// The devnet's local ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub home: u16,
    pub remote: u16,
    pub validators: [u16; VALIDATORS],
    pub relayer: u16,
    pub fallback: [u16; FALLBACK_VALIDATORS],
    pub watchtower: u16,
    pub api: u16,
}

impl Ports {
    /// The documented defaults the README's tour relies on.
    pub const FIXED: Ports = Ports {
        home: 8545,
        remote: 8546,
        validators: [7101, 7102, 7103, 7104],
        relayer: 7200,
        fallback: [7111, 7112],
        watchtower: 7300,
        api: 7400,
    };

    /// `base` (ethereum), `base+1` (bsc), `base+2..=base+5` (validators), `base+6` (relayer),
    /// `base+7..=base+8` (fallback validators), `base+9` (watchtower), `base+10` (API).
    pub fn from_base(base: u16) -> Result<Ports> {
        if !(1024..=u16::MAX - 10).contains(&base) {
            bail!("--port-base {base} is out of range: pick one between 1024 and {}", u16::MAX - 10);
        }
        Ok(Ports {
            home: base,
            remote: base + 1,
            validators: [base + 2, base + 3, base + 4, base + 5],
            relayer: base + 6,
            fallback: [base + 7, base + 8],
            watchtower: base + 9,
            api: base + 10,
        })
    }

    fn labelled(&self) -> Vec<(u16, String)> {
        let mut out =
            vec![(self.home, format!("anvil {}", HOME.name)), (self.remote, format!("anvil {}", REMOTE.name))];
        for (i, port) in self.validators.iter().enumerate() {
            out.push((*port, format!("validator-{i}")));
        }
        out.push((self.relayer, "relayer".to_string()));
        for (i, port) in self.fallback.iter().enumerate() {
            out.push((*port, format!("fallback-{i}")));
        }
        out.push((self.watchtower, "watchtower".to_string()));
        out.push((self.api, "api".to_string()));
        out
    }

    /// Fails, naming the port, if any of them is taken.
    pub(super) fn check_free(&self) -> Result<()> {
        for (port, what) in self.labelled() {
            if let Err(e) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
                bail!(
                    "port {port} (for {what}) is not free ({e}): if an earlier devnet still runs, stop it with \
                     `zerobridge devnet down`; otherwise stop whatever listens there (`ss -ltnp | grep {port}`) \
                     or use other ports with --port-base"
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_from_base_are_consecutive() {
        let ports = Ports::from_base(20_000).expect("in range");
        assert_eq!(ports.home, 20_000);
        assert_eq!(ports.remote, 20_001);
        assert_eq!(ports.validators, [20_002, 20_003, 20_004, 20_005]);
        assert_eq!(ports.relayer, 20_006);
        assert_eq!(ports.fallback, [20_007, 20_008]);
        assert_eq!(ports.watchtower, 20_009);
        assert_eq!(ports.api, 20_010);
        assert!(Ports::from_base(80).is_err());
        assert!(Ports::from_base(u16::MAX - 10).is_ok());
        assert!(Ports::from_base(u16::MAX - 9).is_err());
        let mut taken: Vec<u16> = ports.labelled().into_iter().map(|(port, _)| port).collect();
        taken.sort_unstable();
        taken.dedup();
        assert_eq!(taken, (20_000..20_011).collect::<Vec<_>>());
    }

    #[test]
    fn a_taken_port_is_named_with_the_fix() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mut ports = Ports::from_base(20_000).expect("in range");
        ports.relayer = port;
        let err = ports.check_free().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(&format!("port {port} (for relayer)")), "{err}");
        assert!(err.contains("zerobridge devnet down"), "{err}");

        let mut ports = Ports::from_base(20_000).expect("in range");
        ports.watchtower = port;
        let err = ports.check_free().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(&format!("port {port} (for watchtower)")), "{err}");
    }
}
