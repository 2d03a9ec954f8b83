import sys
from pathlib import Path

# make tests/painel_testing.py importable from every test folder
sys.path.insert(0, str(Path(__file__).parent))
