"""QA data cleaning: sessions of snapshots, majority voting, leaderboard and export."""
