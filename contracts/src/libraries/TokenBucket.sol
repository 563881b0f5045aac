// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Token-bucket rate limit that refills its full capacity linearly over one day. Any split
/// of transfers takes from the same bucket, so the flow over any window of t seconds is at most
/// capacity + capacity * t / 1 day.
library TokenBucket {
    uint256 internal constant REFILL_PERIOD = 1 days;

    /// @return level the tokens available at `nowTs`, given the level stored at `updatedAt`.
    function available(uint256 capacity, uint256 level, uint256 updatedAt, uint256 nowTs)
        internal
        pure
        returns (uint256)
    {
        if (nowTs <= updatedAt) return level > capacity ? capacity : level;
        uint256 refilled = level + (nowTs - updatedAt) * capacity / REFILL_PERIOD;
        return refilled > capacity ? capacity : refilled;
    }

    /// @return seconds until `amount` fits, for error messages (0 if it fits now; max if it never
    /// fits). Counted from the stored level, since `available` rounds the refill down.
    function secondsUntil(uint256 capacity, uint256 level, uint256 updatedAt, uint256 nowTs, uint256 amount)
        internal
        pure
        returns (uint256)
    {
        if (amount <= available(capacity, level, updatedAt, nowTs)) return 0;
        if (amount > capacity) return type(uint256).max;
        // smallest elapsed time e with level + e * capacity / REFILL_PERIOD >= amount
        uint256 needed = ((amount - level) * REFILL_PERIOD + capacity - 1) / capacity;
        uint256 elapsed = nowTs > updatedAt ? nowTs - updatedAt : 0;
        return needed - elapsed;
    }
}
