"""The platform-neutral core of qotd: scheduling, picking, answers, scoring, streaks."""
