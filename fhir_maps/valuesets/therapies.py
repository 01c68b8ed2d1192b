"""CRS-associated therapies (SPEC 2.1): the products that put a patient in scope, by name.

No RxNorm codes are listed: we could not verify the RxNorm concepts of these biologics and cell
products offline, and EHRs often send them as product codes (NDC, local) with a display, or as
free text (SPEC 2.1). Matching is therefore by name in every coding display and in text:
generic names (INN), their short forms ("axi-cel"), and US brand names (FDA labels).

Specific product names are tried before generic descriptions ("CAR T", "TIL"), so "Kymriah
(CAR-T)" is tisagenlecleucel, not an unnamed CAR T-cell product.
"""

from __future__ import annotations

from dataclasses import dataclass

from crs_grading.inputs import TherapyKind

from .._names import NameMatcher, Phrase, acronyms, phrases


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
    _product("tisagenlecleucel", _CAR_T, "Kymriah", "tisa-cel")
    + _product("axicabtagene ciloleucel", _CAR_T, "axicabtagene", "Yescarta", "axi-cel")
    + _product("brexucabtagene autoleucel", _CAR_T, "brexucabtagene", "Tecartus", "brexu-cel")
    + _product("lisocabtagene maraleucel", _CAR_T, "lisocabtagene", "Breyanzi", "liso-cel")
    + _product("idecabtagene vicleucel", _CAR_T, "idecabtagene", "Abecma", "ide-cel")
    + _product("ciltacabtagene autoleucel", _CAR_T, "ciltacabtagene", "Carvykti", "cilta-cel")
    + _product("obecabtagene autoleucel", _CAR_T, "obecabtagene", "Aucatzyl", "obe-cel")
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

#: Generic descriptions, used only when no named product is found.
THERAPY_GENERIC_NAMES: NameMatcher[Therapy] = NameMatcher(
    phrases(Therapy("CAR T-cell therapy", _CAR_T), "chimeric antigen receptor")
    # "CAR" is upper case in every spelling of the therapy; lower-case "cart" is a trolley.
    + acronyms(Therapy("CAR T-cell therapy", _CAR_T), "CAR T", "CAR-T", "CART", "CAR T-cell")
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
