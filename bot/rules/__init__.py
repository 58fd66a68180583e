"""Pure rules (standard library + APScheduler's trigger maths only): no I/O, no database.

Everything here is a function of its arguments so it can be tested exhaustively and the
service layer stays a thin orchestration of storage and these rules.
"""
