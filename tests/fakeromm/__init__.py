"""A fake RomM server on 127.0.0.1 answering in the recorded shapes."""
