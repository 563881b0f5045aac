#!/usr/bin/env python3
# Mutation check for the audit fixes (issue "Stake must outlive the signatures it backs"): reverts
# one fix at a time in contracts/src, runs the tests named after its finding, and reports how many
# fail (every line must say 0 passing). Restores each file afterwards. Not part of CI (it rebuilds
# the contracts once per fix, ~20 minutes). Usage: scripts/check-audit-tests.py [finding...]
import os, subprocess, shutil, sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
os.chdir(os.path.join(root, "contracts"))
os.environ["PATH"] = os.path.join(root, "node_modules/@foundry-rs/forge-linux-amd64/bin") + os.pathsep + os.environ["PATH"]
M = [
 ("finding1-lock", "src/StakeManager.sol", "(uint256 locked,) = _locked(op);", "uint256 locked;", "test_finding1_exitThenForge_(oneWeiActive|partialWithdraw|pendingRecommit|stalledRemoval|insideGrace)"),
 ("finding1-recovery", "src/ZeroBridge.sol", "if (block.timestamp < ValidatorSetLib.validUntil(expiredSet)) revert SetAlreadyActive(laneId);", "", "test_finding1_expiredSetIsReplaced"),
 ("finding1-expiry", "src/ZeroBridge.sol", "if (block.timestamp >= validUntil) revert ValidatorSetExpired(validUntil);", "", "test_finding1_exitThenForge_stalledRemoval"),
 ("finding3", "src/ZeroBridge.sol", "        _takeFromBucket(inbound, amount);\n        refund.status", "        refund.status", "test_finding3_forgedRefund_split"),
 ("finding3-hold", "src/ZeroBridge.sol", "if (block.timestamp < releaseAt) revert RefundHeld(laneId, msgHash, releaseAt);", "", "test_finding3_forgedRefund_large"),
 ("finding3-pause", "src/ZeroBridge.sol", "if (lane.paused || inbound.paused) revert", "if (false) revert", "test_finding3_forgedRefund_(large|respects)"),
 ("finding4", "src/ZeroBridge.sol", "routeOfWrappedToken[token] != bytes32(0) || WrappedToken(token).routeId() != routeId", "false", "test_finding4"),
 ("finding5", "src/ZeroBridge.sol", "if (lane.status == RouteStatus.ExitOnly && lane.isHome) revert RouteIsExitOnly();", "if (lane.status == RouteStatus.ExitOnly) revert RouteIsExitOnly();", "test_finding5"),
 ("finding6", "src/StakeManager.sol", "            } catch {}", "            } catch { revert(); }", "test_finding6_rotationNeverDependsOnTheToken_transferReverts"),
 ("finding7", "src/StakeManager.sol", "if (failure != ECDSA.RecoverError.NoError || recovered != signer) revert SignerProofInvalid(signer);", "recovered; failure;", "test_finding7"),
 ("finding8", "src/StakeManager.sol", "if (_candidates[lane].length() >= MAX_CANDIDATES_PER_LANE) _displaceLightest(lane, amount);", "if (_candidates[lane].length() >= MAX_CANDIDATES_PER_LANE) revert TooManyCandidates(lane);", "test_finding8"),
 ("finding9", "src/StakeManager.sol", "if (share == 0 || count == 0) return type(uint256).max;", "return type(uint256).max;", "finding9"),
 ("finding10", "src/StakeManager.sol", "if (_isProvenForger(reporter)) {", "if (false) {", "test_finding10_(self|cross)"),
]
only = sys.argv[1:]
for name, path, old, new, pattern in M:
    if only and name not in only: continue
    src = open(path).read()
    assert src.count(old) == 1, (name, old)
    shutil.copy(path, path + ".orig")
    open(path, "w").write(src.replace(old, new))
    try:
        r = subprocess.run(["forge", "test", "--offline", "--match-contract", "AuditFindings", "--match-test", pattern], capture_output=True, text=True)
        out = r.stdout + r.stderr
        fails = {l.split("] ")[-1] for l in out.splitlines() if l.startswith("[FAIL")}
        passes = [l for l in out.splitlines() if l.startswith("[PASS")]
        print(f"{name}: fixes reverted -> {len(fails)} failing, {len(passes)} passing", flush=True)
        for l in passes: print("   still passing:", l[:100], flush=True)
        if not fails and not passes: print(out[-2000:])
    finally:
        shutil.move(path + ".orig", path)
