"""Understanding a turn: from what the person said (or typed in full) to typed ``EditOp``s."""
