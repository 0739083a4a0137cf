"""What the simulators share: the ASGI recording and fault layer, fault knobs, drawn media."""
