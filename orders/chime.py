"""Synthesises the short chime that announces a new order: ``python -m orders.chime``.

Two bell-like notes (a fifth apart, each a sine with a few harmonics and an
exponential decay), 16-bit mono WAV, about 16 kB. Generated rather than copied
so that the product ships no third-party media; the output is committed in
static/sounds/ so a fresh clone needs no build step.
"""

import math
import struct
import sys
import wave
from pathlib import Path

RATE = 22_050
OUTPUT = Path(__file__).resolve().parent.parent / "static" / "sounds" / "new-order.wav"
# (start in s, frequency in Hz, duration in s): E6 then B6, bright enough to cut through a kitchen's noise.
NOTES = ((0.0, 1318.5, 0.30), (0.14, 1975.5, 0.36))
HARMONICS = ((1, 1.0), (2, 0.35), (3, 0.12))
PEAK = 0.6


def samples() -> list[float]:
    length = max(start + duration for start, _, duration in NOTES)
    signal = [0.0] * int(length * RATE)
    for start, frequency, duration in NOTES:
        first = int(start * RATE)
        for n in range(int(duration * RATE)):
            t = n / RATE
            # A 5 ms attack avoids a click; the decay makes it a bell rather than a beep.
            envelope = min(1.0, t / 0.005) * math.exp(-t * 9)
            tone = sum(weight * math.sin(2 * math.pi * frequency * harmonic * t) for harmonic, weight in HARMONICS)
            signal[first + n] += envelope * tone
    loudest = max(abs(value) for value in signal)
    return [value / loudest * PEAK for value in signal]


def write(path: Path = OUTPUT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"".join(struct.pack("<h", round(value * 32767)) for value in samples()))
    return path


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT))
