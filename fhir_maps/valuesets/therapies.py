"""CRS-associated therapies (SPEC 2.1): the products that put a patient in scope, by name.

No RxNorm codes are listed: we could not verify the RxNorm concepts of these biologics and cell
products offline, and EHRs often send them as product codes (NDC, local) with a display, or as
free text (SPEC 2.1). Matching is therefore by name in every coding display and in text:
generic names (INN), their short forms ("axi-cel"), and US brand names (FDA labels).

Specific product names are tried before generic descriptions ("CAR T", "TIL"), so "Kymriah
(CAR-T)" is tisagenlecleucel, not an unnamed CAR T-cell product.

SPEC 2.1: every name form in any case: "CAR T", "CAR-T", "CAR T-cell", "car t cells";
"chimeric antigen receptor"; antigen-CAR forms ("CD19-CAR", "CD19-CAR cells" of the seed,
"BCMA CAR", "anti-CD19 CAR", "CD19-directed CAR"); product code names (CTL019, KTE-X19). The
words of "CAR T" must be apart: lower-case "cart" is a trolley, so only "CART" in capitals is
read glued.
"""

from __future__ import annotations

from dataclasses import dataclass

from crs_grading.inputs import TherapyKind

from .._names import NameMatcher, Phrase, acronyms, phrases, separated


@dataclass(frozen=True, slots=True)
class Therapy:
    """A therapy as it is named on cards (``name``) and its family."""

    name: str
    kind: TherapyKind


def _product(name: str, kind: TherapyKind, *aliases: str) -> tuple[Phrase[Therapy], ...]:
    return phrases(Therapy(name, kind), name, *aliases)


_CAR_T = TherapyKind.CAR_T
_TCR_TIL = TherapyKind.TCR_TIL
_ENGAGER = TherapyKind.T_CELL_ENGAGER
_ANTIBODY = TherapyKind.ANTIBODY
_CELL = TherapyKind.CELL_THERAPY_OTHER

#: Named products (FDA-approved unless noted).
THERAPY_PRODUCT_NAMES: NameMatcher[Therapy] = NameMatcher(
    # CAR T-cell products
    # CAR T-cell products, with their development code names (as in trial-era order sets)
    _product("tisagenlecleucel", _CAR_T, "Kymriah", "tisa-cel", "CTL019", "CTL-019")
    + _product("axicabtagene ciloleucel", _CAR_T, "axicabtagene", "Yescarta", "axi-cel", "KTE-C19")
    + _product(
        "brexucabtagene autoleucel", _CAR_T, "brexucabtagene", "Tecartus", "brexu-cel", "KTE-X19"
    )
    + _product(
        "lisocabtagene maraleucel", _CAR_T, "lisocabtagene", "Breyanzi", "liso-cel", "JCAR017"
    )
    + _product("idecabtagene vicleucel", _CAR_T, "idecabtagene", "Abecma", "ide-cel", "bb2121")
    + _product(
        "ciltacabtagene autoleucel", _CAR_T, "ciltacabtagene", "Carvykti", "cilta-cel", "LCAR-B38M"
    )
    + _product("obecabtagene autoleucel", _CAR_T, "obecabtagene", "Aucatzyl", "obe-cel", "AUTO1")
    # TCR and TIL products
    + _product("afamitresgene autoleucel", _TCR_TIL, "afamitresgene", "Tecelra", "afami-cel")
    + _product("lifileucel", _TCR_TIL, "Amtagvi")
    # virus-specific T cells (EBV-specific; EU-approved)
    + _product("tabelecleucel", _CELL, "Ebvallo", "tab-cel")
    # T-cell engagers
    + _product("blinatumomab", _ENGAGER, "Blincyto")
    + _product("teclistamab", _ENGAGER, "Tecvayli")
    + _product("elranatamab", _ENGAGER, "Elrexfio")
    + _product("talquetamab", _ENGAGER, "Talvey")
    + _product("epcoritamab", _ENGAGER, "Epkinly", "Tepkinly")
    + _product("glofitamab", _ENGAGER, "Columvi")
    + _product("mosunetuzumab", _ENGAGER, "Lunsumio")
    + _product("tarlatamab", _ENGAGER, "Imdelltra")
    + _product("tebentafusp", _ENGAGER, "Kimmtrak")
    + _product("linvoseltamab", _ENGAGER)
    # antibodies named by the seed (Lee 2014: OKT3, alemtuzumab, rituximab, TGN1412)
    + _product("muromonab-CD3", _ANTIBODY, "muromonab", "Orthoclone")
    + acronyms(Therapy("muromonab-CD3", _ANTIBODY), "OKT3")
    + _product("alemtuzumab", _ANTIBODY, "Campath", "Lemtrada")
    + _product("rituximab", _ANTIBODY, "Rituxan", "MabThera", "Truxima", "Ruxience", "Riabni")
    + _product("theralizumab", _ANTIBODY, "TAB08")
    + acronyms(Therapy("theralizumab", _ANTIBODY), "TGN1412", "TGN-1412")
)

_CAR_T_THERAPY = Therapy("CAR T-cell therapy", _CAR_T)

#: Antigens that CAR T-cell products target, as charted before "CAR" ("CD19-CAR", "BCMA CAR"):
#: those of approved products and of CAR T-cell trials (a list to extend, not a closed set).
CAR_ANTIGENS: tuple[str, ...] = (
    "CD19",
    "CD20",
    "CD22",
    "CD30",
    "CD33",
    "CD38",
    "CD5",
    "CD7",
    "CD70",
    "CD79b",
    "CD123",
    "CD138",
    "CD171",
    "CD276",
    "CD44v6",
    "CD4",
    "CD2",
    "CD1a",
    "CD37",
    "BCMA",
    "GPRC5D",
    "SLAMF7",
    "CS1",
    "GD2",
    "HER2",
    "EGFR",
    "EGFRvIII",
    "IL13Ra2",
    "B7-H3",
    "PSMA",
    "PSCA",
    "mesothelin",
    "MSLN",
    "GPC3",
    "ROR1",
    "CLL1",
    "CLL-1",
    "NKG2D",
    "CEA",
    "MUC1",
    "MUC16",
    "DLL3",
    "claudin18.2",
    "CLDN18.2",
    "kappa",
    "Lewis Y",
    "CD19/CD22",
    "CD19/CD20",
    "CD19/BCMA",
)


def _antigen_car_names() -> tuple[Phrase[Therapy], ...]:
    forms: list[str] = []
    for antigen in CAR_ANTIGENS:
        forms += [
            f"{antigen} CAR",
            f"{antigen}.CAR",
            f"anti-{antigen} CAR",
            f"{antigen}-targeted CAR",
            f"{antigen}-directed CAR",
            f"{antigen}-specific CAR",
            f"{antigen}-redirected CAR",
        ]
    # "CD19-CAR" may be glued ("CD19CAR"); "CAR" itself is a whole word after the antigen.
    return phrases(_CAR_T_THERAPY, *forms)


#: Generic descriptions, used only when no named product is found.
THERAPY_GENERIC_NAMES: NameMatcher[Therapy] = NameMatcher(
    phrases(
        _CAR_T_THERAPY,
        "chimeric antigen receptor",
        "chimeric antigen receptor T cells",
        "chimeric antigen receptor T-cell therapy",
    )
    # "CAR T" in any case, words apart; glued only in capitals ("CART", "CART19").
    + separated(
        _CAR_T_THERAPY,
        "CAR T",
        "CAR T-cell",
        "CAR T-cells",
        "CAR T cell therapy",
        "CAR cells",
        "CAR-modified T cells",
        "CAR-engineered T cells",
        "CAR T19",
    )
    + acronyms(_CAR_T_THERAPY, "CART", "CART19", "CART-19", "CAR19", "CART-BCMA")
    + _antigen_car_names()
    + phrases(
        Therapy("TIL therapy", _TCR_TIL),
        "tumor-infiltrating lymphocytes",
        "tumor-infiltrating lymphocyte",
        "tumour-infiltrating lymphocytes",
        "tumour-infiltrating lymphocyte",
    )
    + acronyms(Therapy("TIL therapy", _TCR_TIL), "TIL", "TILs")
    + phrases(
        Therapy("TCR T-cell therapy", _TCR_TIL),
        "T-cell receptor therapy",
        "TCR-engineered T cells",
        "TCR T-cell therapy",
    )
    + acronyms(Therapy("TCR T-cell therapy", _TCR_TIL), "TCR-T", "TCR T")
    + phrases(
        Therapy("virus-specific T cells", _CELL),
        "virus-specific T cells",
        "virus-specific T-cell",
        "virus specific T lymphocytes",
        "cytotoxic T lymphocytes",
        "cytotoxic T-lymphocyte",
        "cytotoxic T cells",
    )
    + acronyms(Therapy("virus-specific T cells", _CELL), "CTL", "CTLs", "VST", "VSTs")
)
