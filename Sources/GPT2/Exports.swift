// GPT2 re-exports Basics (the clock, the seeded generator, the cache folder): the engine's timers and the
// synthetic checkpoints use them, and every client of GPT2 reads the same clock and draws from the same
// generator without a second import.
@_exported import Basics
