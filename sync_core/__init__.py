"""ActiveCampaign ⇄ Dynamics 365 sync: all logic, importable without the Functions host.

Import direction (DESIGN.md §2): ``api`` and ``engine`` may import ``store``, the clients
(``activecampaign``, ``dynamics``), ``model`` and ``clock``; the clients and ``store`` import
``model`` and ``clock`` only.
"""

__version__ = "0.1.0"
